"""Queries of what the assessment service keeps of other services' events: pass rules,
offerings and enrolments."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.domain import EnrolmentStatus
from assessment.tables import enrolment, offering, pass_rule, result
from credstack.contracts.catalogue import MicroCredentialPublished, OfferingScheduled
from credstack.contracts.enrolment import EnrolmentConfirmed, EnrolmentTransferred


async def save_pass_rule(conn: AsyncConnection, event: MicroCredentialPublished) -> None:
    """The published version's pass mark and outcomes (a version never changes)."""
    await conn.execute(
        insert(pass_rule)
        .values(
            micro_credential_id=event.micro_credential_id,
            version=event.version,
            pass_mark=event.pass_mark,
            learning_outcome_ids=[o.id for o in event.learning_outcomes],
        )
        .on_conflict_do_nothing()
    )


async def confirmed_without_result(
    conn: AsyncConnection, micro_credential_id: UUID, version: int
) -> list[UUID]:
    """Confirmed enrolments in that version with no result yet (waiting for its rule)."""
    rows = await conn.execute(
        select(enrolment.c.id).where(
            enrolment.c.micro_credential_id == micro_credential_id,
            enrolment.c.micro_credential_version == version,
            enrolment.c.status == EnrolmentStatus.CONFIRMED,
            enrolment.c.id.not_in(select(result.c.enrolment_id)),
        )
    )
    return [row.id for row in rows]


async def save_offering(conn: AsyncConnection, event: OfferingScheduled) -> None:
    """The offering as scheduled (its contact sessions and LMS course), or as changed."""
    values = {
        "micro_credential_id": event.micro_credential_id,
        "micro_credential_version": event.micro_credential_version,
        "code": event.code,
        "title": event.title,
        "contact_sessions": event.contact_sessions,
        "lms_course_ref": event.lms_course_ref,
    }
    await conn.execute(
        insert(offering)
        .values(id=event.offering_id, **values)
        .on_conflict_do_update(index_elements=[offering.c.id], set_=values)
    )


async def decided_in_offering(conn: AsyncConnection, offering_id: UUID) -> list[UUID]:
    """Confirmed enrolments of the offering that have a result."""
    rows = await conn.execute(
        select(enrolment.c.id)
        .join(result, result.c.enrolment_id == enrolment.c.id)
        .where(
            enrolment.c.offering_id == offering_id,
            enrolment.c.status == EnrolmentStatus.CONFIRMED,
        )
    )
    return [row.id for row in rows]


async def save_confirmed_enrolment(conn: AsyncConnection, event: EnrolmentConfirmed) -> None:
    await conn.execute(
        insert(enrolment)
        .values(
            id=event.enrolment_id,
            learner_id=event.learner_id,
            offering_id=event.offering_id,
            micro_credential_id=event.micro_credential_id,
            micro_credential_version=event.micro_credential_version,
            confirmed_at=event.confirmed_at,
            status=EnrolmentStatus.CONFIRMED,
        )
        .on_conflict_do_nothing()
    )


async def set_enrolment_status(
    conn: AsyncConnection, enrolment_id: UUID, status: EnrolmentStatus
) -> None:
    await conn.execute(
        update(enrolment).where(enrolment.c.id == enrolment_id).values(status=status)
    )


async def move_enrolment(conn: AsyncConnection, event: EnrolmentTransferred) -> None:
    """The enrolment now belongs to the offering (and version) it was transferred to."""
    await conn.execute(
        update(enrolment)
        .where(enrolment.c.id == event.enrolment_id)
        .values(
            offering_id=event.to_offering_id,
            micro_credential_id=event.micro_credential_id,
            micro_credential_version=event.micro_credential_version,
        )
    )
