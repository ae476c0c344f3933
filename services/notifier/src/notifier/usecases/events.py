"""Consumed events: each records what the learner page and later messages need, and
stages the message it calls for, once per cause (`dedup_key`): a redelivered or
re-published event stages nothing new. Facts are what the template needs beyond the
learner's contact details and titles, which are looked up when the message is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.assessment import AssessmentFailed, AssessmentPassed
from credstack.contracts.catalogue import (
    EnrolmentOpened,
    MicroCredentialPublished,
    OfferingRescheduled,
    OfferingScheduled,
    StackPublished,
)
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
from credstack.contracts.envelope import Event, Received
from credstack.contracts.issuer import (
    CertificateOfAttendanceIssued,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
)
from credstack.kafka import Handler
from credstack.privacy import forget_parked_contacts
from notifier import repository
from notifier.domain import CredentialStatus, Kind, Stage, cancellation_message
from notifier.tables import parked


async def _to_learner(
    conn: AsyncConnection,
    kind: Kind,
    cause: str,
    learner_id: UUID,
    facts: dict[str, Any],
    received: Received,
) -> None:
    await repository.stage_message(
        conn, kind, f"{kind}:{cause}", facts, at=received.time, learner_id=learner_id
    )


# -- contacts -------------------------------------------------------------------------


async def contact_changed(
    conn: AsyncConnection, event: LearnerContactChanged, received: Received
) -> None:
    await repository.save_contact(
        conn,
        event.learner_id,
        email=event.email,
        name=event.name,
        language=event.language,
        at=event.changed_at,
    )


async def learner_erased(conn: AsyncConnection, event: LearnerErased, received: Received) -> None:
    await repository.erase_learner(conn, event.learner_id)
    await forget_parked_contacts(conn, parked, event.learner_id)


# -- the catalogue ----------------------------------------------------------------------


async def micro_credential_published(
    conn: AsyncConnection, event: MicroCredentialPublished, received: Received
) -> None:
    await repository.save_micro_credential(
        conn,
        event.micro_credential_id,
        version=event.version,
        code=event.code,
        title=event.title,
        language=event.language,
    )


async def stack_published(conn: AsyncConnection, event: StackPublished, received: Received) -> None:
    await repository.save_stack(
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
    await repository.save_offering(
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
    await repository.reschedule_offering(
        conn,
        event.offering_id,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        enrolment_opens_at=event.enrolment_opens_at,
        enrolment_closes_at=event.enrolment_closes_at,
    )
    for enrolment_id, learner_id in await repository.active_learners_of(conn, event.offering_id):
        await _to_learner(
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
    """To everyone who confirmed their interest and has not unsubscribed (the event's own
    `interested_emails`, from catalogues before the notifier owned interest, are not used:
    nobody there confirmed an opt-in here)."""
    for registered in await repository.consenting_interests(conn, event.micro_credential_id):
        await repository.stage_message(
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


# -- enrolment ----------------------------------------------------------------------------


async def enrolment_requested(
    conn: AsyncConnection, event: EnrolmentRequested, received: Received
) -> None:
    await repository.save_enrolment(
        conn,
        event.enrolment_id,
        learner_id=event.learner_id,
        offering_id=event.offering_id,
        micro_credential_id=event.micro_credential_id,
        at=event.requested_at,
    )
    await _to_learner(
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
    await repository.set_stage(conn, event.enrolment_id, Stage.DECLARATION, at=event.required_at)
    await _to_learner(
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
    await repository.save_enrolment(
        conn,
        event.enrolment_id,
        learner_id=event.learner_id,
        offering_id=event.offering_id,
        micro_credential_id=event.micro_credential_id,
        at=event.confirmed_at,
    )
    await repository.set_stage(conn, event.enrolment_id, Stage.CONFIRMED, at=event.confirmed_at)
    facts = {"enrolment_id": str(event.enrolment_id), "offering_id": str(event.offering_id)}
    if event.amount_paid_cents:
        await _to_learner(
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
    await _to_learner(
        conn, Kind.ENROLMENT_CONFIRMED, str(event.enrolment_id), event.learner_id, facts, received
    )


async def seat_offered(
    conn: AsyncConnection, event: WaitlistSeatOffered, received: Received
) -> None:
    await repository.set_stage(
        conn,
        event.enrolment_id,
        Stage.SEAT_OFFERED,
        at=event.offered_at,
        offer_expires_at=event.offer_expires_at,
    )
    await _to_learner(
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


async def _known(conn: AsyncConnection, enrolment_id: UUID) -> repository.EnrolmentFacts | None:
    """The enrolment as EnrolmentRequested told it (always earlier on the same key)."""
    return await repository.enrolment_of(conn, enrolment_id)


async def enrolment_cancelled(
    conn: AsyncConnection, event: EnrolmentCancelled, received: Received
) -> None:
    known = await _known(conn, event.enrolment_id)
    if known is None:
        return
    await repository.set_stage(conn, event.enrolment_id, Stage.CANCELLED, at=event.cancelled_at)
    kind = cancellation_message(event.cause)
    await _to_learner(
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
    await repository.set_stage(conn, event.enrolment_id, Stage.WITHDRAWN, at=event.withdrawn_at)
    await _to_learner(
        conn,
        Kind.WITHDRAWN,
        str(event.enrolment_id),
        event.learner_id,
        {"enrolment_id": str(event.enrolment_id), "offering_id": str(event.offering_id)},
        received,
    )


async def payment_failed(conn: AsyncConnection, event: PaymentFailed, received: Received) -> None:
    known = await _known(conn, event.enrolment_id)
    if known is None:
        return
    await _to_learner(
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
    known = await _known(conn, event.enrolment_id)
    if known is None:
        return
    await _to_learner(
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


# -- assessment ---------------------------------------------------------------------------


async def _result(
    conn: AsyncConnection,
    event: AssessmentPassed | AssessmentFailed,
    kind: Kind,
    result: str,
    received: Received,
) -> None:
    await repository.set_result(conn, event.enrolment_id, result)
    known = await _known(conn, event.enrolment_id)
    await _to_learner(
        conn,
        kind,
        f"{event.enrolment_id}:{event.decided_at.isoformat()}",
        event.learner_id,
        {
            "enrolment_id": str(event.enrolment_id),
            "micro_credential_id": str(event.micro_credential_id),
            **({"offering_id": str(known.offering_id)} if known else {}),
        },
        received,
    )


async def assessment_passed(
    conn: AsyncConnection, event: AssessmentPassed, received: Received
) -> None:
    await _result(conn, event, Kind.RESULT_PASSED, "passed", received)


async def assessment_failed(
    conn: AsyncConnection, event: AssessmentFailed, received: Received
) -> None:
    await _result(conn, event, Kind.RESULT_NOT_YET, "not_yet", received)


# -- the issuer -----------------------------------------------------------------------------


async def credential_issued(
    conn: AsyncConnection, event: CredentialIssued, received: Received
) -> None:
    await _issued(conn, event, Kind.CREDENTIAL_ISSUED, "micro_credential", received)


async def attendance_issued(
    conn: AsyncConnection, event: CertificateOfAttendanceIssued, received: Received
) -> None:
    await _issued(conn, event, Kind.ATTENDANCE_ISSUED, "attendance", received)


async def _issued(
    conn: AsyncConnection,
    event: CredentialIssued | CertificateOfAttendanceIssued,
    kind: Kind,
    credential_kind: str,
    received: Received,
) -> None:
    await repository.save_credential(
        conn,
        event.credential_id,
        learner_id=event.learner_id,
        kind=credential_kind,
        micro_credential_id=event.micro_credential_id,
        url=event.url,
        issued_at=event.issued_at,
    )
    await _to_learner(
        conn,
        kind,
        str(event.credential_id),
        event.learner_id,
        {
            "credential_id": str(event.credential_id),
            "micro_credential_id": str(event.micro_credential_id),
            "url": event.url,
            "issued_at": event.issued_at.isoformat(),
        },
        received,
    )


async def stack_issued(
    conn: AsyncConnection, event: StackCredentialIssued, received: Received
) -> None:
    await repository.save_credential(
        conn,
        event.credential_id,
        learner_id=event.learner_id,
        kind="stack",
        stack_id=event.stack_id,
        url=event.url,
        issued_at=event.issued_at,
    )
    await _to_learner(
        conn,
        Kind.STACK_ISSUED,
        str(event.credential_id),
        event.learner_id,
        {
            "credential_id": str(event.credential_id),
            "stack_id": str(event.stack_id),
            "url": event.url,
            "issued_at": event.issued_at.isoformat(),
        },
        received,
    )


async def _status_changed(
    conn: AsyncConnection,
    credential_id: UUID,
    learner_id: UUID,
    status: CredentialStatus,
    kind: Kind,
    at: datetime,
    received: Received,
) -> None:
    """The message never carries the issuer's reason (it may hold internal notes): each
    template says, neutrally, what the status means."""
    found = await repository.credential_of(conn, credential_id)
    if found is None:
        return
    await repository.set_credential_status(conn, credential_id, status)
    facts: dict[str, Any] = {"credential_id": str(credential_id), "url": found.url}
    if found.stack_id is not None:
        facts["stack_id"] = str(found.stack_id)
    if found.micro_credential_id is not None:
        facts["micro_credential_id"] = str(found.micro_credential_id)
    await _to_learner(conn, kind, f"{credential_id}:{at.isoformat()}", learner_id, facts, received)


async def credential_revoked(
    conn: AsyncConnection, event: CredentialRevoked, received: Received
) -> None:
    await _status_changed(
        conn,
        event.credential_id,
        event.learner_id,
        CredentialStatus.REVOKED,
        Kind.CREDENTIAL_REVOKED,
        event.revoked_at,
        received,
    )


async def credential_suspended(
    conn: AsyncConnection, event: CredentialSuspended, received: Received
) -> None:
    await _status_changed(
        conn,
        event.credential_id,
        event.learner_id,
        CredentialStatus.SUSPENDED,
        Kind.CREDENTIAL_SUSPENDED,
        event.suspended_at,
        received,
    )


async def credential_reinstated(
    conn: AsyncConnection, event: CredentialReinstated, received: Received
) -> None:
    await _status_changed(
        conn,
        event.credential_id,
        event.learner_id,
        CredentialStatus.ACTIVE,
        Kind.CREDENTIAL_REINSTATED,
        event.reinstated_at,
        received,
    )


HANDLERS: dict[type[Event], Handler] = {
    LearnerContactChanged: contact_changed,
    LearnerErased: learner_erased,
    MicroCredentialPublished: micro_credential_published,
    StackPublished: stack_published,
    OfferingScheduled: offering_scheduled,
    OfferingRescheduled: offering_rescheduled,
    EnrolmentOpened: enrolment_opened,
    EnrolmentRequested: enrolment_requested,
    DeclarationRequired: declaration_required,
    EnrolmentConfirmed: enrolment_confirmed,
    WaitlistSeatOffered: seat_offered,
    EnrolmentCancelled: enrolment_cancelled,
    EnrolmentWithdrawn: enrolment_withdrawn,
    PaymentFailed: payment_failed,
    PaymentRefunded: payment_refunded,
    AssessmentPassed: assessment_passed,
    AssessmentFailed: assessment_failed,
    CredentialIssued: credential_issued,
    CertificateOfAttendanceIssued: attendance_issued,
    StackCredentialIssued: stack_issued,
    CredentialRevoked: credential_revoked,
    CredentialSuspended: credential_suspended,
    CredentialReinstated: credential_reinstated,
}
