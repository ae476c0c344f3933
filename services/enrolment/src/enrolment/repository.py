"""Queries over offerings (read model) and enrolments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from enrolment.domain import Enrolment, Offering, Status
from enrolment.tables import enrolment, offering

_OFFERING_COLUMNS = [
    offering.c.id,
    offering.c.micro_credential_id,
    offering.c.micro_credential_version,
    offering.c.enrolment_opens_at,
    offering.c.enrolment_closes_at,
    offering.c.capacity,
    offering.c.fee_cents,
    offering.c.status,
]


def _offering(row: Any) -> Offering:
    return Offering(**{c.name: getattr(row, c.name) for c in _OFFERING_COLUMNS})


async def offering_for_update(conn: AsyncConnection, offering_id: UUID) -> Offering | None:
    """The offering, locked: seat counting under this lock cannot oversell."""
    row = (
        await conn.execute(
            select(*_OFFERING_COLUMNS).where(offering.c.id == offering_id).with_for_update()
        )
    ).first()
    return _offering(row) if row else None


async def seats_taken(conn: AsyncConnection, offering_id: UUID) -> int:
    return int(
        await conn.scalar(
            select(func.count())
            .select_from(enrolment)
            .where(
                enrolment.c.offering_id == offering_id,
                enrolment.c.status.in_([Status.PENDING_PAYMENT.value, Status.CONFIRMED.value]),
            )
        )
        or 0
    )


async def get(
    conn: AsyncConnection, enrolment_id: UUID, *, for_update: bool = False
) -> Enrolment | None:
    query = select(enrolment).where(enrolment.c.id == enrolment_id)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        return None
    offering_row = (
        await conn.execute(select(*_OFFERING_COLUMNS).where(offering.c.id == row.offering_id))
    ).one()
    return Enrolment(
        id=row.id,
        learner_id=row.learner_id,
        learner_name=row.learner_name,
        email=row.email,
        offering=_offering(offering_row),
        status=Status(row.status),
        fee_cents=row.fee_cents,
    )
