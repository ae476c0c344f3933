"""The learner's record: their credentials, their progress towards stacks, a CLR export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from issuer import repository
from issuer.domain import Credential, NoActiveCredential, Status
from issuer.identity import Issuer
from issuer.stacks import StackRule
from issuer.standards import clr2
from issuer.standards.openbadges3 import new_salt


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


async def clr_credential(
    conn: AsyncConnection, issuer: Issuer, learner_id: UUID, *, at: datetime
) -> dict[str, Any]:
    """The learner's active credentials as a signed CLR 2.0 ClrCredential."""
    held = [
        credential
        for credential in await repository.credentials_of_learner(conn, learner_id)
        if credential.status is Status.ACTIVE
    ]
    if not held:
        raise NoActiveCredential()
    latest = held[-1]
    unsigned = clr2.clr_credential(
        record_id=uuid4(),
        issuer=issuer.profile,
        base_url=issuer.base_url,
        learner_name=latest.recipient_name,
        email=latest.recipient_email,
        salt=new_salt(),
        credentials=[credential.document for credential in held],
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
