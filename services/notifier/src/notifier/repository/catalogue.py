"""Read models of the catalogue: micro-credentials, stacks, offerings, and the titles
messages name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.tables import (
    micro_credential,
    offering,
    stack,
)


async def save_micro_credential(
    conn: AsyncConnection, item_id: UUID, *, version: int, code: str, title: str, language: str
) -> None:
    values = {"version": version, "code": code, "title": title, "language": language}
    await conn.execute(
        insert(micro_credential)
        .values(id=item_id, **values)
        .on_conflict_do_update(
            index_elements=["id"], set_=values, where=micro_credential.c.version <= version
        )
    )


async def micro_credential_by_code(conn: AsyncConnection, code: str) -> Any:
    return (
        await conn.execute(select(micro_credential).where(micro_credential.c.code == code))
    ).first()


async def save_stack(
    conn: AsyncConnection,
    stack_id: UUID,
    *,
    version: int,
    title: str,
    members: Sequence[UUID],
    required_count: int,
    language: str,
) -> None:
    values = {
        "language": language,
        "version": version,
        "title": title,
        "members": [str(m) for m in members],
        "required_count": required_count,
    }
    await conn.execute(
        insert(stack)
        .values(id=stack_id, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values, where=stack.c.version <= version)
    )


async def save_offering(conn: AsyncConnection, offering_id: UUID, **values: Any) -> None:
    await conn.execute(
        insert(offering)
        .values(id=offering_id, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def reschedule_offering(conn: AsyncConnection, offering_id: UUID, **values: Any) -> None:
    await conn.execute(update(offering).where(offering.c.id == offering_id).values(**values))


async def offering_of(conn: AsyncConnection, offering_id: UUID) -> Any:
    return (await conn.execute(select(offering).where(offering.c.id == offering_id))).first()


async def titles(
    conn: AsyncConnection,
    *,
    offering_id: UUID | None = None,
    micro_credential_id: UUID | None = None,
    stack_id: UUID | None = None,
) -> tuple[str | None, str | None]:
    """(title, language of instruction) of what a message is about, if known yet."""
    if stack_id is not None:
        row = (
            await conn.execute(
                select(stack.c.title, stack.c.language).where(stack.c.id == stack_id)
            )
        ).first()
        return (None, None) if row is None else (row.title, row.language)
    if offering_id is not None:
        found = await offering_of(conn, offering_id)
        if found is not None:
            return found.title, found.language
    if micro_credential_id is not None:
        row = (
            await conn.execute(
                select(micro_credential.c.title, micro_credential.c.language).where(
                    micro_credential.c.id == micro_credential_id
                )
            )
        ).first()
        if row is not None:
            return row.title, row.language
    return None, None


async def code_of(conn: AsyncConnection, micro_credential_id: UUID) -> str | None:
    return await conn.scalar(
        select(micro_credential.c.code).where(micro_credential.c.id == micro_credential_id)
    )


async def stacks_with_any(conn: AsyncConnection, member_ids: Sequence[UUID]) -> list[Any]:
    if not member_ids:
        return []
    wanted = [str(m) for m in member_ids]
    rows = await conn.execute(select(stack).where(stack.c.members.has_any(array(wanted))))
    return list(rows)
