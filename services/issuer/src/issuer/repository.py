"""Queries over the issuer's tables that are richer than a primary-key lookup."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from issuer.domain import Credential, Kind, Status
from issuer.standards.openbadges3 import HeldMember, Recipient
from issuer.tables import (
    achievement,
    claim,
    credential,
    recipient,
    stack,
    status_entry,
    status_list,
    status_list_credential,
    vcapi_credential,
)
from issuer.wallet_claims import Claim, Protocol

#: Random draws in the newest list before another list is opened (a list is then, with
#: overwhelming likelihood, more than half full).
INDEX_ATTEMPTS = 16


def _credential(row: Any) -> Credential:
    return Credential(
        id=row.id,
        kind=Kind(row.kind),
        learner_id=row.learner_id,
        title=row.title,
        document=dict(row.document),
        issued_at=row.issued_at,
        status=Status(row.status),
        recipient_name=row.recipient_name,
        recipient_email=row.recipient_email,
        achievement_id=row.achievement_id,
        status_reason=row.status_reason,
        enrolment_id=row.enrolment_id,
        micro_credential_id=row.micro_credential_id,
        micro_credential_version=row.micro_credential_version,
        stack_id=row.stack_id,
        stack_version=row.stack_version,
    )


async def credential_by_id(
    conn: AsyncConnection, credential_id: UUID, *, for_update: bool = False
) -> Credential | None:
    query = select(credential).where(credential.c.id == credential_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else _credential(row)


async def add_credential(conn: AsyncConnection, issued: Credential) -> None:
    await conn.execute(
        insert(credential).values(
            id=issued.id,
            kind=issued.kind,
            learner_id=issued.learner_id,
            enrolment_id=issued.enrolment_id,
            micro_credential_id=issued.micro_credential_id,
            micro_credential_version=issued.micro_credential_version,
            stack_id=issued.stack_id,
            stack_version=issued.stack_version,
            achievement_id=issued.achievement_id,
            title=issued.title,
            recipient_name=issued.recipient_name,
            recipient_email=issued.recipient_email,
            document=issued.document,
            issued_at=issued.issued_at,
            status=issued.status,
        )
    )


async def save_status(conn: AsyncConnection, changed: Credential, *, at: datetime) -> None:
    await conn.execute(
        update(credential)
        .where(credential.c.id == changed.id)
        .values(status=changed.status, status_reason=changed.status_reason, status_changed_at=at)
    )


async def live_credential(
    conn: AsyncConnection, enrolment_id: UUID, kind: Kind
) -> Credential | None:
    """The enrolment's credential of this kind that is not revoked, if any."""
    row = (
        await conn.execute(
            select(credential).where(
                credential.c.enrolment_id == enrolment_id,
                credential.c.kind == kind,
                credential.c.status != Status.REVOKED,
            )
        )
    ).first()
    return None if row is None else _credential(row)


async def credentials_of_learner(conn: AsyncConnection, learner_id: UUID) -> list[Credential]:
    rows = await conn.execute(
        select(credential)
        .where(credential.c.learner_id == learner_id)
        .order_by(credential.c.issued_at, credential.c.id)
    )
    return [_credential(row) for row in rows]


async def credentials_of_enrolment(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Credential]:
    """A page of the enrolment's credentials in issue order, after the key ``after``."""
    query = select(credential).where(credential.c.enrolment_id == enrolment_id)
    if after is not None:
        query = query.where(tuple_(credential.c.issued_at, credential.c.id) > tuple_(*after))
    rows = await conn.execute(query.order_by(credential.c.issued_at, credential.c.id).limit(limit))
    return [_credential(row) for row in rows]


async def held_members(conn: AsyncConnection, learner_id: UUID) -> list[HeldMember]:
    """The learner's active micro-credentials (suspended or revoked ones do not count)."""
    rows = (
        await conn.execute(
            select(credential).where(
                credential.c.learner_id == learner_id,
                credential.c.kind == Kind.MICRO_CREDENTIAL,
                credential.c.status == Status.ACTIVE,
            )
        )
    ).all()
    return [_credential(row).as_held_member() for row in rows]


async def live_stack_credential(
    conn: AsyncConnection, learner_id: UUID, stack_id: UUID
) -> UUID | None:
    found: UUID | None = await conn.scalar(
        select(credential.c.id).where(
            credential.c.learner_id == learner_id,
            credential.c.stack_id == stack_id,
            credential.c.status != Status.REVOKED,
        )
    )
    return found


async def newest_recipient(conn: AsyncConnection, credential_urls: Sequence[str]) -> Recipient:
    """The recipient as named on the newest of these credentials (with their DID, if known)."""
    latest = (
        await conn.execute(
            select(credential.c.recipient_name, credential.c.recipient_email, recipient.c.did)
            .outerjoin(recipient, recipient.c.enrolment_id == credential.c.enrolment_id)
            .where(credential.c.document["id"].as_string().in_(list(credential_urls)))
            .order_by(credential.c.issued_at.desc())
            .limit(1)
        )
    ).one()
    return Recipient(latest.recipient_name, latest.recipient_email, latest.did)


def _latest_stacks() -> Select[tuple[dict[str, Any]]]:
    newest = (
        select(stack.c.stack_id, func.max(stack.c.version).label("version"))
        .group_by(stack.c.stack_id)
        .subquery()
    )
    return select(stack.c.snapshot).join(
        newest, and_(stack.c.stack_id == newest.c.stack_id, stack.c.version == newest.c.version)
    )


async def stacks_with_member(
    conn: AsyncConnection, micro_credential_id: UUID
) -> list[dict[str, Any]]:
    """The newest version of every stack that has this micro-credential as a member."""
    query = _latest_stacks().where(stack.c.snapshot["members"].contains([str(micro_credential_id)]))
    return [row.snapshot for row in await conn.execute(query)]


async def newest_stack(conn: AsyncConnection, stack_id: UUID) -> dict[str, Any]:
    snapshot: dict[str, Any] = (
        await conn.execute(_latest_stacks().where(stack.c.stack_id == stack_id))
    ).scalar_one()
    return snapshot


async def stacks_with_any_member(
    conn: AsyncConnection, micro_credential_ids: Sequence[UUID]
) -> list[dict[str, Any]]:
    if not micro_credential_ids:
        return []
    wanted = {str(m) for m in micro_credential_ids}
    rows = await conn.execute(_latest_stacks())
    return [row.snapshot for row in rows if wanted & set(row.snapshot["members"])]


async def learners_holding(
    conn: AsyncConnection, micro_credential_ids: Sequence[str]
) -> list[UUID]:
    rows = await conn.execute(
        select(credential.c.learner_id)
        .where(
            credential.c.kind == Kind.MICRO_CREDENTIAL,
            credential.c.status == Status.ACTIVE,
            credential.c.micro_credential_id.in_([UUID(m) for m in micro_credential_ids]),
        )
        .distinct()
    )
    return [row.learner_id for row in rows]


async def titles(conn: AsyncConnection, micro_credential_ids: Sequence[str]) -> dict[str, str]:
    """The newest known title of each micro-credential."""
    rows = await conn.execute(
        select(achievement.c.micro_credential_id, achievement.c.snapshot["title"].astext)
        .where(achievement.c.micro_credential_id.in_([UUID(m) for m in micro_credential_ids]))
        .order_by(achievement.c.version)
    )
    return {str(mc): title for mc, title in rows}


async def achievement_document(conn: AsyncConnection, achievement_id: str) -> dict[str, Any] | None:
    """The OB 3.0 Achievement with this id, as issued in a credential."""
    document = await conn.scalar(
        select(credential.c.document)
        .where(credential.c.achievement_id == achievement_id)
        .order_by(credential.c.issued_at)
        .limit(1)
    )
    return None if document is None else dict(document["credentialSubject"]["achievement"])


async def open_status_list(conn: AsyncConnection, number: int, *, now: datetime) -> bool:
    """Create list ``number``; False when another transaction already did."""
    created = await conn.execute(
        insert(status_list)
        .values(number=number, created_at=now)
        .on_conflict_do_nothing()
        .returning(status_list.c.number)
    )
    return created.first() is not None


async def newest_status_list(conn: AsyncConnection) -> int | None:
    number: int | None = await conn.scalar(select(func.max(status_list.c.number)))
    return number


async def claim_status_index(
    conn: AsyncConnection, number: int, index: int, credential_id: UUID
) -> bool:
    claimed = await conn.execute(
        insert(status_entry)
        .values(list_number=number, index=index, credential_id=credential_id)
        .on_conflict_do_nothing(index_elements=["list_number", "index"])
        .returning(status_entry.c.index)
    )
    return claimed.first() is not None


@dataclass(frozen=True)
class StatusPlace:
    """Where a credential's bits are: list ``list_number``, bit ``index``."""

    list_number: int
    index: int


async def status_of(conn: AsyncConnection, credential_id: UUID) -> StatusPlace | None:
    row = (
        await conn.execute(
            select(status_entry.c.list_number, status_entry.c.index).where(
                status_entry.c.credential_id == credential_id
            )
        )
    ).first()
    return None if row is None else StatusPlace(row.list_number, row._mapping["index"])


async def indexes_with_status(
    conn: AsyncConnection, number: int, statuses: Collection[Status]
) -> list[int]:
    wanted = [str(s) for s in statuses]
    ours = (
        select(status_entry.c.index)
        .join(credential, credential.c.id == status_entry.c.credential_id)
        .where(status_entry.c.list_number == number, credential.c.status.in_(wanted))
    )
    through_vcapi = (
        select(status_entry.c.index)
        .join(vcapi_credential, vcapi_credential.c.id == status_entry.c.credential_id)
        .where(status_entry.c.list_number == number, vcapi_credential.c.status.in_(wanted))
    )
    rows = await conn.execute(ours.union_all(through_vcapi))
    return [index for (index,) in rows]


async def lock_status_list(conn: AsyncConnection, number: int) -> None:
    """Serialise re-signing one list: the second writer signs after seeing the first's bit."""
    await conn.execute(
        select(status_list.c.number).where(status_list.c.number == number).with_for_update()
    )


async def save_status_list_credential(
    conn: AsyncConnection, number: int, purpose: str, document: dict[str, Any], *, now: datetime
) -> None:
    statement = insert(status_list_credential).values(
        list_number=number, purpose=purpose, document=document, signed_at=now
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["list_number", "purpose"],
            set_={"document": statement.excluded.document, "signed_at": now},
        )
    )


async def status_list_document(
    conn: AsyncConnection, number: int, purpose: str
) -> dict[str, Any] | None:
    document: dict[str, Any] | None = await conn.scalar(
        select(status_list_credential.c.document).where(
            status_list_credential.c.list_number == number,
            status_list_credential.c.purpose == purpose,
        )
    )
    return document


async def save_vcapi_credential(
    conn: AsyncConnection, credential_id: UUID, document: dict[str, Any], *, by: str, at: datetime
) -> None:
    await conn.execute(
        insert(vcapi_credential).values(
            id=credential_id, document=document, issued_at=at, issued_by=by, status="active"
        )
    )


async def vcapi_credential_by_id(
    conn: AsyncConnection, credential_id: UUID, *, for_update: bool = False
) -> tuple[dict[str, Any], str] | None:
    """A VC-API credential's document and status."""
    query = select(vcapi_credential.c.document, vcapi_credential.c.status).where(
        vcapi_credential.c.id == credential_id
    )
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else (row.document, row.status)


async def save_vcapi_status(
    conn: AsyncConnection, credential_id: UUID, status: str, *, at: datetime
) -> None:
    await conn.execute(
        update(vcapi_credential)
        .where(vcapi_credential.c.id == credential_id)
        .values(status=status, status_changed_at=at)
    )


def _claim(row: Any) -> Claim:
    return Claim(
        id=row.id,
        credential_id=row.credential_id,
        learner_id=row.learner_id,
        expires_at=row.expires_at,
        claimed_at=row.claimed_at,
        challenge=row.challenge,
        holder_did=row.holder_did,
        protocol=Protocol(row.protocol) if row.protocol else None,
        pin_hash=row.pin_hash,
    )


async def add_claim(conn: AsyncConnection, offer: Claim, code_hash: str, *, at: datetime) -> None:
    await conn.execute(
        insert(claim).values(
            id=offer.id,
            code_hash=code_hash,
            credential_id=offer.credential_id,
            learner_id=offer.learner_id,
            created_at=at,
            expires_at=offer.expires_at,
            pin_hash=offer.pin_hash,
        )
    )


async def claim_by_code(conn: AsyncConnection, code_hash: str) -> Claim | None:
    """The claim of this code, locked: one wallet at a time."""
    row = (
        await conn.execute(select(claim).where(claim.c.code_hash == code_hash).with_for_update())
    ).first()
    return None if row is None else _claim(row)


async def save_claim(
    conn: AsyncConnection, taken: Claim, *, copy: dict[str, Any] | None = None
) -> None:
    values: dict[str, Any] = {
        "challenge": taken.challenge,
        "claimed_at": taken.claimed_at,
        "protocol": taken.protocol,
        "holder_did": taken.holder_did,
    }
    if copy is not None:
        values["copy"] = copy
    await conn.execute(update(claim).where(claim.c.id == taken.id).values(**values))


async def claimed_copies(conn: AsyncConnection, credential_id: UUID) -> list[dict[str, Any]]:
    """Every copy of a credential claimed into a wallet, oldest first."""
    rows = await conn.execute(
        select(claim.c.copy)
        .where(claim.c.credential_id == credential_id, claim.c.copy.is_not(None))
        .order_by(claim.c.claimed_at)
    )
    return [copy for (copy,) in rows]


async def grant_claim_access(
    conn: AsyncConnection, claim_id: UUID, token_hash: str, *, expires_at: datetime
) -> None:
    await conn.execute(
        update(claim)
        .where(claim.c.id == claim_id)
        .values(access_token_hash=token_hash, access_expires_at=expires_at)
    )


async def claim_by_access_token(
    conn: AsyncConnection, token_hash: str, *, at: datetime
) -> Claim | None:
    """The claim an unexpired access token was granted for, locked."""
    row = (
        await conn.execute(
            select(claim)
            .where(claim.c.access_token_hash == token_hash, claim.c.access_expires_at > at)
            .with_for_update()
        )
    ).first()
    return None if row is None else _claim(row)
