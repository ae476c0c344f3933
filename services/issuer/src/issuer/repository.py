"""Queries over the issuer's tables that are richer than a primary-key lookup."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from issuer.domain import HeldMember, Kind, Status
from issuer.tables import (
    achievement,
    credential,
    stack,
    status_entry,
    status_list,
    status_list_credential,
)

#: Random draws in the newest list before another list is opened (a list is then, with
#: overwhelming likelihood, more than half full).
INDEX_ATTEMPTS = 16


async def credential_row(
    conn: AsyncConnection, credential_id: UUID, *, for_update: bool = False
) -> Any:
    query = select(credential).where(credential.c.id == credential_id)
    if for_update:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def live_credential(conn: AsyncConnection, enrolment_id: UUID, kind: str) -> Any:
    """The enrolment's credential of this kind that is not revoked, if any."""
    return (
        await conn.execute(
            select(credential).where(
                credential.c.enrolment_id == enrolment_id,
                credential.c.kind == kind,
                credential.c.status != Status.REVOKED,
            )
        )
    ).first()


async def credentials_of_learner(conn: AsyncConnection, learner_id: UUID) -> Sequence[Any]:
    return (
        await conn.execute(
            select(credential)
            .where(credential.c.learner_id == learner_id)
            .order_by(credential.c.issued_at, credential.c.id)
        )
    ).all()


def held_member(row: Any) -> HeldMember:
    subject = row.document["credentialSubject"]
    return HeldMember(
        micro_credential_id=row.micro_credential_id,
        credential_url=row.document["id"],
        title=row.title,
        credit_points=Decimal(str(subject.get("creditsEarned", 0))),
        awarded_at=row.issued_at,
    )


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
    return [held_member(row) for row in rows]


async def live_stack_credential(conn: AsyncConnection, learner_id: UUID, stack_id: UUID) -> Any:
    return (
        await conn.execute(
            select(credential.c.id).where(
                credential.c.learner_id == learner_id,
                credential.c.stack_id == stack_id,
                credential.c.status != Status.REVOKED,
            )
        )
    ).first()


def _latest_stacks() -> Any:
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


async def open_status_list(conn: AsyncConnection, number: int, *, now: Any) -> bool:
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


async def status_of(conn: AsyncConnection, credential_id: UUID) -> Any:
    """(list_number, index) of a credential's status entry, or None."""
    return (
        await conn.execute(
            select(status_entry.c.list_number, status_entry.c.index).where(
                status_entry.c.credential_id == credential_id
            )
        )
    ).first()


async def indexes_with_status(conn: AsyncConnection, number: int, status: str) -> list[int]:
    rows = await conn.execute(
        select(status_entry.c.index)
        .join(credential, credential.c.id == status_entry.c.credential_id)
        .where(status_entry.c.list_number == number, credential.c.status == status)
    )
    return [index for (index,) in rows]


async def lock_status_list(conn: AsyncConnection, number: int) -> None:
    """Serialise re-signing one list: the second writer signs after seeing the first's bit."""
    await conn.execute(
        select(status_list.c.number).where(status_list.c.number == number).with_for_update()
    )


async def save_status_list_credential(
    conn: AsyncConnection, number: int, purpose: str, document: dict[str, Any], *, now: Any
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


async def status_list_document(conn: AsyncConnection, number: int, purpose: str) -> Any:
    return await conn.scalar(
        select(status_list_credential.c.document).where(
            status_list_credential.c.list_number == number,
            status_list_credential.c.purpose == purpose,
        )
    )
