"""What the assessment service keeps of other services' events, and the decisions each
one may complete (events from different services arrive in no fixed order)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import read_models
from assessment.domain import EnrolmentStatus
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
    await read_models.save_pass_rule(conn, event)
    waiting = await read_models.confirmed_without_result(
        conn, event.micro_credential_id, event.version
    )
    await settle_all(conn, waiting, now=received.time)


async def offering_scheduled(
    conn: AsyncConnection, event: OfferingScheduled, received: Received
) -> None:
    """The offering's contact sessions decide who attended; its LMS course maps grades."""
    await read_models.save_offering(conn, event)
    decided = await read_models.decided_in_offering(conn, event.offering_id)
    await settle_all(conn, decided, now=received.time)


async def enrolment_confirmed(
    conn: AsyncConnection, event: EnrolmentConfirmed, received: Received
) -> None:
    await read_models.save_confirmed_enrolment(conn, event)
    await settle(conn, event.enrolment_id, now=received.time)


async def enrolment_cancelled(
    conn: AsyncConnection, event: EnrolmentCancelled, received: Received
) -> None:
    """A cancelled enrolment gets no outcome; grades for it stay on record."""
    await read_models.set_enrolment_status(conn, event.enrolment_id, EnrolmentStatus.CANCELLED)


async def enrolment_withdrawn(
    conn: AsyncConnection, event: EnrolmentWithdrawn, received: Received
) -> None:
    """A withdrawn learner gets no new outcome; a result already released stands."""
    await read_models.set_enrolment_status(conn, event.enrolment_id, EnrolmentStatus.WITHDRAWN)


async def enrolment_transferred(
    conn: AsyncConnection, event: EnrolmentTransferred, received: Received
) -> None:
    """The learner moved to another offering (perhaps another version): the new
    offering's pass rule and contact sessions apply from now on."""
    await read_models.move_enrolment(conn, event)
    await settle(conn, event.enrolment_id, now=received.time)
