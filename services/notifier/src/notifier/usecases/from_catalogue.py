"""Events from the catalogue: the titles and dates messages name, reschedulings, and
enrolment opening (to confirmed interest)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.catalogue import (
    EnrolmentOpened,
    MicroCredentialPublished,
    OfferingRescheduled,
    OfferingScheduled,
    StackPublished,
)
from credstack.contracts.envelope import Received
from credstack.contracts.notifier import EnrolmentOpeningAnnounced
from notifier.domain import Kind
from notifier.repository import (
    catalogue,
    email_outbox,
    enrolments,
    interests,
)
from notifier.tables import outbox
from notifier.usecases.staging import to_learner


async def micro_credential_published(
    conn: AsyncConnection, event: MicroCredentialPublished, received: Received
) -> None:
    await catalogue.save_micro_credential(
        conn,
        event.micro_credential_id,
        version=event.version,
        code=event.code,
        title=event.title,
        language=event.language,
    )


async def stack_published(conn: AsyncConnection, event: StackPublished, received: Received) -> None:
    await catalogue.save_stack(
        conn,
        event.stack_id,
        version=event.version,
        title=event.title,
        members=event.members,
        required_count=event.required_count or len(event.members),
        language=event.language,
    )


async def offering_scheduled(
    conn: AsyncConnection, event: OfferingScheduled, received: Received
) -> None:
    await catalogue.save_offering(
        conn,
        event.offering_id,
        micro_credential_id=event.micro_credential_id,
        title=event.title,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        time_zone=event.time_zone,
        language=event.language,
        currency=event.currency,
        enrolment_opens_at=event.enrolment_opens_at,
        enrolment_closes_at=event.enrolment_closes_at,
    )


async def offering_rescheduled(
    conn: AsyncConnection, event: OfferingRescheduled, received: Received
) -> None:
    await catalogue.reschedule_offering(
        conn,
        event.offering_id,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        enrolment_opens_at=event.enrolment_opens_at,
        enrolment_closes_at=event.enrolment_closes_at,
    )
    for enrolment_id, learner_id in await enrolments.active_learners_of(conn, event.offering_id):
        await to_learner(
            conn,
            Kind.OFFERING_RESCHEDULED,
            f"{enrolment_id}:{event.starts_on}:{event.ends_on}",
            learner_id,
            {"offering_id": str(event.offering_id)},
            received,
        )


async def enrolment_opened(
    conn: AsyncConnection, event: EnrolmentOpened, received: Received
) -> None:
    """To everyone who confirmed their interest and has not unsubscribed (the event's
    deprecated `interested_emails`, filled only by catalogues before the notifier owned
    interest, are not used: nobody there confirmed an opt-in here); then how many were
    told, for the dashboard (`EnrolmentOpeningAnnounced`: a count, no addresses)."""
    consenting = await interests.consenting_interests(conn, event.micro_credential_id)
    for registered in consenting:
        await email_outbox.stage_message(
            conn,
            Kind.ENROLMENT_OPENED,
            f"{Kind.ENROLMENT_OPENED}:{event.offering_id}:{registered.id}",
            {
                "offering_id": str(event.offering_id),
                "micro_credential_id": str(event.micro_credential_id),
                "token": registered.token,
                "closes_at": event.enrolment_closes_at.isoformat(),
            },
            at=received.time,
            to_address=registered.email,
            language=registered.language,
        )
    await outbox.add(
        conn,
        EnrolmentOpeningAnnounced(
            offering_id=event.offering_id,
            micro_credential_id=event.micro_credential_id,
            interested=len(consenting),
            announced_at=received.time,
        ),
        now=received.time,
    )
