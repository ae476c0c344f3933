"""Read model of learners' enrolments: what each waits for, and its result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.domain import Stage
from notifier.tables import (
    enrolment,
    offering,
)


@dataclass(frozen=True)
class EnrolmentFacts:
    id: UUID
    learner_id: UUID
    offering_id: UUID
    micro_credential_id: UUID
    stage: Stage


async def save_enrolment(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    learner_id: UUID,
    offering_id: UUID,
    micro_credential_id: UUID,
    at: datetime,
) -> None:
    await conn.execute(
        insert(enrolment)
        .values(
            id=enrolment_id,
            learner_id=learner_id,
            offering_id=offering_id,
            micro_credential_id=micro_credential_id,
            stage=Stage.REQUESTED,
            requested_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing()
    )


async def enrolment_of(conn: AsyncConnection, enrolment_id: UUID) -> EnrolmentFacts | None:
    row = (await conn.execute(select(enrolment).where(enrolment.c.id == enrolment_id))).first()
    if row is None:
        return None
    return EnrolmentFacts(
        row.id, row.learner_id, row.offering_id, row.micro_credential_id, Stage(row.stage)
    )


async def set_stage(
    conn: AsyncConnection,
    enrolment_id: UUID,
    stage: Stage,
    *,
    at: datetime,
    offer_expires_at: datetime | None = None,
    offering_id: UUID | None = None,
) -> None:
    values: dict[str, Any] = {
        "stage": stage,
        "updated_at": at,
        "offer_expires_at": offer_expires_at,
    }
    if offering_id is not None:
        values["offering_id"] = offering_id
    await conn.execute(update(enrolment).where(enrolment.c.id == enrolment_id).values(**values))


async def set_result(conn: AsyncConnection, enrolment_id: UUID, result: str) -> None:
    await conn.execute(
        update(enrolment).where(enrolment.c.id == enrolment_id).values(result=result)
    )


async def active_learners_of(conn: AsyncConnection, offering_id: UUID) -> list[tuple[UUID, UUID]]:
    """(enrolment, learner) of the offering's enrolments that are not cancelled or withdrawn."""
    rows = await conn.execute(
        select(enrolment.c.id, enrolment.c.learner_id).where(
            enrolment.c.offering_id == offering_id,
            enrolment.c.stage.not_in([Stage.CANCELLED, Stage.WITHDRAWN]),
        )
    )
    return [(r.id, r.learner_id) for r in rows]


async def enrolments_of(conn: AsyncConnection, learner_id: UUID) -> list[Any]:
    rows = await conn.execute(
        select(
            enrolment,
            offering.c.title,
            offering.c.starts_on,
            offering.c.ends_on,
            offering.c.language,
            offering.c.time_zone,
        )
        .select_from(enrolment.outerjoin(offering, offering.c.id == enrolment.c.offering_id))
        .where(enrolment.c.learner_id == learner_id)
        .order_by(enrolment.c.requested_at.desc())
    )
    return list(rows)
