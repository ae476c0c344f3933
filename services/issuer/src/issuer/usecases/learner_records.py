"""The learner's record: their credentials, their progress towards stacks, a CLR export."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.privacy import ERASED
from credstack.refusals import Conflict, NotFound
from issuer import repository
from issuer.domain import Credential, NoActiveCredential, Status
from issuer.identity import Issuer
from issuer.stacks import StackRule
from issuer.standards import bitstring_status_list, clr2
from issuer.standards.openbadges3 import StatusEntry, new_salt
from issuer.usecases import status_lists


@dataclass(frozen=True)
class LearnerRecord:
    learner_id: UUID
    credentials: list[Credential]
    stacks: list[dict[str, Any]]


async def record(conn: AsyncConnection, learner_id: UUID) -> LearnerRecord:
    return LearnerRecord(
        learner_id=learner_id,
        credentials=await repository.credentials_of_learner(conn, learner_id),
        stacks=await stack_progress(conn, learner_id),
    )


class NoRecord(NotFound):
    code = "no-record"

    def __init__(self) -> None:
        super().__init__("No learner record has this id.")


def record_id(issuer: Issuer, learner_id: UUID) -> str:
    """The learner's record id: stable, and unguessable without the issuer's key
    (``<learner id>.<MAC>``), so the record's URL can be public like a credential's."""
    return f"{learner_id}.{_mac(issuer, learner_id)}"


def _mac(issuer: Issuer, learner_id: UUID) -> str:
    # keyed by the issuer's first signing key: it stays in the key set after rotations
    secret = issuer.signing.keys.private_keys[0].private_bytes_raw()
    digest = hmac.new(secret, b"clr-record:" + learner_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def learner_of(issuer: Issuer, record: str) -> UUID:
    """The learner whose record id is ``record``; NoRecord for any other string."""
    learner, _, mac = record.partition(".")
    try:
        learner_id = UUID(learner)
    except ValueError:
        raise NoRecord() from None
    if not hmac.compare_digest(mac, _mac(issuer, learner_id)):
        raise NoRecord()
    return learner_id


class RecordErased(Conflict):
    code = "record-erased"


async def clr_credential(
    conn: AsyncConnection, issuer: Issuer, learner_id: UUID, *, at: datetime
) -> dict[str, Any]:
    """The learner's active credentials as a signed CLR 2.0 ClrCredential, with the
    record's stable id and its status entry (claimed with the first export)."""
    held = [
        credential
        for credential in await repository.credentials_of_learner(conn, learner_id)
        if credential.status is Status.ACTIVE
    ]
    if not held:
        raise NoActiveCredential()
    latest = held[-1]
    if latest.recipient_email == ERASED:
        raise RecordErased(
            "Your personal data was erased: a record naming you cannot be made. Each "
            "credential you hold still verifies on its own."
        )
    record = record_id(issuer, learner_id)
    status_key = uuid5(NAMESPACE_URL, clr2.record_url(issuer.base_url, record))
    place = await repository.status_of(conn, status_key)
    if place is None:
        status = await status_lists.allocate(conn, issuer, status_key, at=at)
    else:
        url = bitstring_status_list.list_url(issuer.base_url, place.list_number, "suspension")
        status = StatusEntry(url, place.index)
    unsigned = clr2.clr_credential(
        record_id=record,
        issuer=issuer.profile,
        base_url=issuer.base_url,
        learner_name=latest.recipient_name,
        email=latest.recipient_email,
        salt=new_salt(),
        credentials=[credential.document for credential in held],
        status=status,
        at=at,
    )
    return issuer.signing.sign(unsigned, at=at)


async def stack_progress(conn: AsyncConnection, learner_id: UUID) -> list[dict[str, Any]]:
    """What the learner holds towards each stack that counts any of their credentials."""
    held = await repository.held_members(conn, learner_id)
    stacks = await repository.stacks_with_any_member(
        conn, sorted({h.micro_credential_id for h in held}, key=str)
    )
    titles = await repository.titles(conn, [m for s in stacks for m in s["members"]])
    progress = []
    for snapshot in stacks:
        view = StackRule.of(snapshot).progress(held)
        for member in view["members"]:
            member["title"] = titles.get(member["micro_credential_id"])
        done = await repository.live_stack_credential(conn, learner_id, UUID(snapshot["stack_id"]))
        progress.append(
            {
                **view,
                "title": snapshot["title"],
                "kind": snapshot["kind"],
                "credential_id": str(done) if done else None,
            }
        )
    return progress
