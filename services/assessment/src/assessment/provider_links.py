"""Learners an LMS names by the identity provider's subject (a client registered with
learner_ids `identity-provider`): their confirmed enrolments in the client's offerings,
and the roster links recorded for them automatically. SQLAlchemy Core; no commit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.domain import EnrolmentStatus
from assessment.tables import enrolment, offering, roster_link

LINKED_BY = "identity-provider"
"""`linked_by` of an automatic link: the identity provider's subject vouched for it."""


@dataclass(frozen=True)
class ProviderEnrolment:
    """A confirmed enrolment of the learner an identifier names, in one of the offerings."""

    enrolment_id: UUID
    offering_id: UUID
    lms_course_ref: str | None
    identifier: str


async def confirmed_enrolments(
    conn: AsyncConnection, identifiers: Mapping[UUID, str], offering_ids: Collection[UUID]
) -> list[ProviderEnrolment]:
    """Confirmed enrolments in `offering_ids` of the learners `identifiers` names (learner
    id -> the grade's identifier of them), by enrolment id."""
    if not identifiers or not offering_ids:
        return []
    rows = await conn.execute(
        select(
            enrolment.c.id,
            enrolment.c.offering_id,
            enrolment.c.learner_id,
            offering.c.lms_course_ref,
        )
        .outerjoin(offering, offering.c.id == enrolment.c.offering_id)
        .where(
            enrolment.c.learner_id.in_(list(identifiers)),
            enrolment.c.offering_id.in_(list(offering_ids)),
            enrolment.c.status == EnrolmentStatus.CONFIRMED.value,
        )
        .order_by(enrolment.c.id)
    )
    return [
        ProviderEnrolment(row.id, row.offering_id, row.lms_course_ref, identifiers[row.learner_id])
        for row in rows
    ]


async def record_link(
    conn: AsyncConnection,
    *,
    client_id: str,
    identifier: str,
    offering_id: UUID,
    enrolment_id: UUID,
    now: datetime,
) -> None:
    """The roster link staff see for an automatic mapping (kept if one exists already)."""
    await conn.execute(
        insert(roster_link)
        .values(
            client_id=client_id,
            subject=identifier,
            offering_id=offering_id,
            enrolment_id=enrolment_id,
            linked_by=LINKED_BY,
            linked_at=now,
            automatic=True,
        )
        .on_conflict_do_nothing()
    )
