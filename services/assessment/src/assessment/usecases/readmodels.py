"""What the assessment service keeps of other services' events, and the decisions each
one may complete (events from different services arrive in no fixed order)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.domain import EnrolmentStatus
from assessment.tables import enrolment, offering, pass_rule, result
from assessment.usecases.results import settle, settle_all
from credstack.contracts.catalogue import MicroCredentialPublished, OfferingScheduled
from credstack.contracts.enrolment import (
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
)
from credstack.contracts.envelope import Received


async def micro_credential_published(
    conn: AsyncConnection, event: MicroCredentialPublished, received: Received
) -> None:
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
    waiting = await conn.execute(
        select(enrolment.c.id).where(
            enrolment.c.micro_credential_id == event.micro_credential_id,
            enrolment.c.micro_credential_version == event.version,
            enrolment.c.status == EnrolmentStatus.CONFIRMED,
            enrolment.c.id.not_in(select(result.c.enrolment_id)),
        )
    )
    await settle_all(conn, [row.id for row in waiting], now=received.time)


async def offering_scheduled(
    conn: AsyncConnection, event: OfferingScheduled, received: Received
) -> None:
    """The offering's contact sessions decide who attended; its LMS course maps grades."""
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
    decided = await conn.execute(
        select(enrolment.c.id)
        .join(result, result.c.enrolment_id == enrolment.c.id)
        .where(
            enrolment.c.offering_id == event.offering_id,
            enrolment.c.status == EnrolmentStatus.CONFIRMED,
        )
    )
    await settle_all(conn, [row.id for row in decided], now=received.time)


async def enrolment_confirmed(
    conn: AsyncConnection, event: EnrolmentConfirmed, received: Received
) -> None:
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
    await settle(conn, event.enrolment_id, now=received.time)


async def enrolment_cancelled(
    conn: AsyncConnection, event: EnrolmentCancelled, received: Received
) -> None:
    """A cancelled enrolment gets no outcome; grades for it stay on record."""
    await conn.execute(
        update(enrolment)
        .where(enrolment.c.id == event.enrolment_id)
        .values(status=EnrolmentStatus.CANCELLED)
    )


async def enrolment_withdrawn(
    conn: AsyncConnection, event: EnrolmentWithdrawn, received: Received
) -> None:
    """A withdrawn learner gets no new outcome; a result already released stands."""
    await conn.execute(
        update(enrolment)
        .where(enrolment.c.id == event.enrolment_id)
        .values(status=EnrolmentStatus.WITHDRAWN)
    )


async def enrolment_transferred(
    conn: AsyncConnection, event: EnrolmentTransferred, received: Received
) -> None:
    """The learner moved to another offering (perhaps another version): the new
    offering's pass rule and contact sessions apply from now on."""
    await conn.execute(
        update(enrolment)
        .where(enrolment.c.id == event.enrolment_id)
        .values(
            offering_id=event.to_offering_id,
            micro_credential_id=event.micro_credential_id,
            micro_credential_version=event.micro_credential_version,
        )
    )
    await settle(conn, event.enrolment_id, now=received.time)
