"""Whether the catalogue's announcements arrived here (for the reconciler). The notifier
keeps the newest version of each micro-credential and stack: an older version counts as
known once a newer one is here."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.tables import micro_credential, offering, stack


async def knows_version(conn: AsyncConnection, micro_credential_id: UUID, version: int) -> bool:
    held = await conn.scalar(
        select(micro_credential.c.version).where(micro_credential.c.id == micro_credential_id)
    )
    return held is not None and held >= version


async def knows_stack(conn: AsyncConnection, stack_id: UUID, version: int) -> bool:
    held = await conn.scalar(select(stack.c.version).where(stack.c.id == stack_id))
    return held is not None and held >= version


async def knows_offering(conn: AsyncConnection, offering_id: UUID) -> bool:
    return await conn.scalar(select(offering.c.id).where(offering.c.id == offering_id)) is not None
