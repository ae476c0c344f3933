"""Read model of learners' credentials and their status."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.domain import CredentialStatus
from notifier.tables import (
    credential,
    micro_credential,
    stack,
)


async def save_credential(conn: AsyncConnection, credential_id: UUID, **values: Any) -> None:
    await conn.execute(
        insert(credential)
        .values(id=credential_id, status=CredentialStatus.ACTIVE, **values)
        .on_conflict_do_nothing()
    )


async def credential_of(conn: AsyncConnection, credential_id: UUID) -> Any:
    return (await conn.execute(select(credential).where(credential.c.id == credential_id))).first()


async def set_credential_status(
    conn: AsyncConnection, credential_id: UUID, status: CredentialStatus
) -> None:
    await conn.execute(
        update(credential).where(credential.c.id == credential_id).values(status=status)
    )


async def credentials_of(conn: AsyncConnection, learner_id: UUID) -> list[Any]:
    rows = await conn.execute(
        select(
            credential,
            func.coalesce(stack.c.title, micro_credential.c.title).label("title"),
            micro_credential.c.language,
        )
        .select_from(
            credential.outerjoin(
                micro_credential, micro_credential.c.id == credential.c.micro_credential_id
            ).outerjoin(stack, stack.c.id == credential.c.stack_id)
        )
        .where(credential.c.learner_id == learner_id)
        .order_by(credential.c.issued_at.desc())
    )
    return list(rows)
