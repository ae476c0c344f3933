"""Queries of contact sessions' attendance registers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.tables import attendance, enrolment, offering


async def contact_sessions(conn: AsyncConnection, offering_id: UUID) -> int | None:
    """The offering's number of contact sessions, or None when unknown or not set."""
    sessions: int | None = await conn.scalar(
        select(offering.c.contact_sessions).where(offering.c.id == offering_id)
    )
    return sessions


async def enrolled_elsewhere(
    conn: AsyncConnection, enrolment_ids: set[UUID], offering_id: UUID
) -> list[tuple[UUID, UUID]]:
    """Those of `enrolment_ids` that belong to another offering, with that offering."""
    rows = await conn.execute(
        select(enrolment.c.id, enrolment.c.offering_id).where(
            enrolment.c.id.in_(enrolment_ids), enrolment.c.offering_id != offering_id
        )
    )
    return [(row.id, row.offering_id) for row in rows]


async def save_register(
    conn: AsyncConnection,
    offering_id: UUID,
    session: int,
    attended: dict[UUID, bool],
    *,
    by: str,
    at: datetime,
) -> None:
    """One contact session's register: each enrolment present or not, replacing what an
    earlier register of the same session said."""
    statement = insert(attendance).values(
        [
            {
                "enrolment_id": enrolment_id,
                "attended": present,
                "offering_id": offering_id,
                "session": session,
                "recorded_by": by,
                "recorded_at": at,
            }
            for enrolment_id, present in attended.items()
        ]
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[
                attendance.c.offering_id,
                attendance.c.session,
                attendance.c.enrolment_id,
            ],
            set_={
                "attended": statement.excluded.attended,
                "recorded_by": statement.excluded.recorded_by,
                "recorded_at": statement.excluded.recorded_at,
            },
        )
    )
