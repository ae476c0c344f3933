"""Credentials, their recipients, and the stacks and achievements they are made of."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from issuer.domain import Credential, Kind, Status
from issuer.standards.openbadges3 import HeldMember, Recipient
from issuer.tables import (
    achievement,
    credential,
    recipient,
    stack,
)


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


async def save_documents(
    conn: AsyncConnection, documents: Sequence[tuple[UUID, dict[str, Any]]]
) -> None:
    """Give each credential its (signed) document: one statement, executed for all."""
    await conn.execute(
        update(credential)
        .where(credential.c.id == bindparam("credential_id"))
        .values(document=bindparam("signed")),
        [{"credential_id": c, "signed": d} for c, d in documents],
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
