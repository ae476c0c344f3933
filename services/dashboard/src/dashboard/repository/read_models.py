"""The read models the events keep: offerings, enrolments, declarations, credential status."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dashboard.projections import EnrolmentChange, OfferingChange
from dashboard.tables import (
    declaration_view,
    enrolment_view,
    offering_view,
)


async def offering_label(conn: AsyncConnection, offering_id: UUID | None) -> str | None:
    if offering_id is None:
        return None
    row = (
        await conn.execute(
            select(offering_view.c.code, offering_view.c.title).where(
                offering_view.c.offering_id == offering_id
            )
        )
    ).first()
    return f"{row.code} {row.title}".strip() if row else None


async def enrolment_subjects(
    conn: AsyncConnection, enrolment_id: UUID | None
) -> tuple[UUID | None, UUID | None]:
    """The offering and micro-credential an enrolment belongs to, when known."""
    if enrolment_id is None:
        return None, None
    row = (
        await conn.execute(
            select(enrolment_view.c.offering_id, enrolment_view.c.micro_credential_id).where(
                enrolment_view.c.enrolment_id == enrolment_id
            )
        )
    ).first()
    return (row.offering_id, row.micro_credential_id) if row else (None, None)


async def apply_enrolment_change(conn: AsyncConnection, change: EnrolmentChange) -> None:
    e = enrolment_view
    values = {**change.first, **change.latest, **change.decision}
    if change.sequence is not None:
        values["decision_sequence"] = change.sequence
    statement = insert(e).values(enrolment_id=change.enrolment_id, **values)
    updates: dict[str, Any] = {
        name: func.coalesce(e.c[name], statement.excluded[name]) for name in change.first
    }
    updates.update({name: statement.excluded[name] for name in change.latest})
    if change.sequence is not None:
        held = func.coalesce(e.c.decision_sequence, -1)
        not_older = statement.excluded.decision_sequence >= held
        updates.update(
            {
                name: case((not_older, statement.excluded[name]), else_=e.c[name])
                for name in change.decision
            }
        )
        updates["decision_sequence"] = func.greatest(held, statement.excluded.decision_sequence)
    if updates:
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[enrolment_view.c.enrolment_id], set_=updates
            )
        )
    else:
        await conn.execute(statement.on_conflict_do_nothing())


async def record_declaration(
    conn: AsyncConnection, learner_id: UUID, version: int, accepted_at: datetime
) -> None:
    """The learner's first acceptance is kept (the funnel asks "ever accepted?")."""
    await conn.execute(
        insert(declaration_view)
        .values(learner_id=learner_id, version=version, accepted_at=accepted_at)
        .on_conflict_do_nothing()
    )


async def set_credential_status(conn: AsyncConnection, credential_id: UUID, status: str) -> None:
    await conn.execute(
        enrolment_view.update()
        .where(enrolment_view.c.credential_id == credential_id)
        .values(credential_status=status)
    )


async def apply_offering_change(
    conn: AsyncConnection, change: OfferingChange, *, now: datetime
) -> None:
    values = {**change.values, "updated_at": now}
    statement = insert(offering_view).values(
        offering_id=change.offering_id, **change.initial, **values
    )
    await conn.execute(
        statement.on_conflict_do_update(index_elements=[offering_view.c.offering_id], set_=values)
    )


# Read models for the pages.


async def knows_offering(conn: AsyncConnection, offering_id: UUID) -> bool:
    """Whether its schedule arrived here (an EnrolmentOpened alone creates the row too)."""
    found = await conn.scalar(
        select(offering_view.c.starts_on).where(offering_view.c.offering_id == offering_id)
    )
    return found is not None
