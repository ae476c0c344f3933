"""Events from enrolment: contact details (`enrolment.contacts`), erasure, and each step
of an enrolment and its payment."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.enrolment import (
    DeclarationRequired,
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentRequested,
    EnrolmentWithdrawn,
    LearnerContactChanged,
    LearnerErased,
    PaymentFailed,
    PaymentRefunded,
    WaitlistSeatOffered,
)
from credstack.contracts.envelope import Received
from credstack.privacy import forget_parked_contacts
from notifier.domain import Kind, Stage, cancellation_message
from notifier.repository import (
    contacts,
    enrolments,
)
from notifier.tables import parked
from notifier.usecases.staging import known_enrolment, to_learner


async def contact_changed(
    conn: AsyncConnection, event: LearnerContactChanged, received: Received
) -> None:
    await contacts.save_contact(
        conn,
        event.learner_id,
        email=event.email,
        name=event.name,
        language=event.language,
        at=event.changed_at,
    )


async def learner_erased(conn: AsyncConnection, event: LearnerErased, received: Received) -> None:
    await contacts.erase_learner(conn, event.learner_id)
    await forget_parked_contacts(conn, parked, event.learner_id)


async def enrolment_requested(
    conn: AsyncConnection, event: EnrolmentRequested, received: Received
) -> None:
    await enrolments.save_enrolment(
        conn,
        event.enrolment_id,
        learner_id=event.learner_id,
        offering_id=event.offering_id,
        micro_credential_id=event.micro_credential_id,
        at=event.requested_at,
    )
    await to_learner(
        conn,
        Kind.ENROLMENT_RECEIVED,
        str(event.enrolment_id),
        event.learner_id,
        {"enrolment_id": str(event.enrolment_id), "offering_id": str(event.offering_id)},
        received,
    )


async def declaration_required(
    conn: AsyncConnection, event: DeclarationRequired, received: Received
) -> None:
    await enrolments.set_stage(conn, event.enrolment_id, Stage.DECLARATION, at=event.required_at)
    await to_learner(
        conn,
        Kind.DECLARATION_NEEDED,
        str(event.enrolment_id),
        event.learner_id,
        {"enrolment_id": str(event.enrolment_id), "offering_id": str(event.offering_id)},
        received,
    )


async def enrolment_confirmed(
    conn: AsyncConnection, event: EnrolmentConfirmed, received: Received
) -> None:
    await enrolments.save_enrolment(
        conn,
        event.enrolment_id,
        learner_id=event.learner_id,
        offering_id=event.offering_id,
        micro_credential_id=event.micro_credential_id,
        at=event.confirmed_at,
    )
    await enrolments.set_stage(conn, event.enrolment_id, Stage.CONFIRMED, at=event.confirmed_at)
    facts = {"enrolment_id": str(event.enrolment_id), "offering_id": str(event.offering_id)}
    if event.amount_paid_cents:
        await to_learner(
            conn,
            Kind.PAYMENT_RECEIPT,
            str(event.enrolment_id),
            event.learner_id,
            facts
            | {
                "amount_cents": event.amount_paid_cents,
                "currency": event.currency,
                "paid_at": event.confirmed_at.isoformat(),
            },
            received,
        )
    await to_learner(
        conn, Kind.ENROLMENT_CONFIRMED, str(event.enrolment_id), event.learner_id, facts, received
    )


async def seat_offered(
    conn: AsyncConnection, event: WaitlistSeatOffered, received: Received
) -> None:
    await enrolments.set_stage(
        conn,
        event.enrolment_id,
        Stage.SEAT_OFFERED,
        at=event.offered_at,
        offer_expires_at=event.offer_expires_at,
    )
    await to_learner(
        conn,
        Kind.SEAT_OFFERED,
        f"{event.enrolment_id}:{event.offer_expires_at.isoformat()}",
        event.learner_id,
        {
            "enrolment_id": str(event.enrolment_id),
            "offering_id": str(event.offering_id),
            "offer_expires_at": event.offer_expires_at.isoformat(),
        },
        received,
    )


async def enrolment_cancelled(
    conn: AsyncConnection, event: EnrolmentCancelled, received: Received
) -> None:
    known = await known_enrolment(conn, event.enrolment_id)
    if known is None:
        return
    await enrolments.set_stage(conn, event.enrolment_id, Stage.CANCELLED, at=event.cancelled_at)
    kind = cancellation_message(event.cause)
    await to_learner(
        conn,
        kind,
        str(event.enrolment_id),
        known.learner_id,
        {"enrolment_id": str(event.enrolment_id), "offering_id": str(known.offering_id)},
        received,
    )


async def enrolment_withdrawn(
    conn: AsyncConnection, event: EnrolmentWithdrawn, received: Received
) -> None:
    await enrolments.set_stage(conn, event.enrolment_id, Stage.WITHDRAWN, at=event.withdrawn_at)
    await to_learner(
        conn,
        Kind.WITHDRAWN,
        str(event.enrolment_id),
        event.learner_id,
        {"enrolment_id": str(event.enrolment_id), "offering_id": str(event.offering_id)},
        received,
    )


async def payment_failed(conn: AsyncConnection, event: PaymentFailed, received: Received) -> None:
    known = await known_enrolment(conn, event.enrolment_id)
    if known is None:
        return
    await to_learner(
        conn,
        Kind.PAYMENT_FAILED,
        f"{event.enrolment_id}:{event.failed_at.isoformat()}",
        known.learner_id,
        {
            "enrolment_id": str(event.enrolment_id),
            "offering_id": str(known.offering_id),
            "reason": event.reason,
            "final": event.final,
        },
        received,
    )


async def payment_refunded(
    conn: AsyncConnection, event: PaymentRefunded, received: Received
) -> None:
    known = await known_enrolment(conn, event.enrolment_id)
    if known is None:
        return
    await to_learner(
        conn,
        Kind.REFUND_ISSUED,
        f"{event.enrolment_id}:{event.refunded_at.isoformat()}",
        known.learner_id,
        {
            "enrolment_id": str(event.enrolment_id),
            "offering_id": str(known.offering_id),
            "amount_cents": event.amount_cents,
        },
        received,
    )
