"""What each event changes in the read models, as plain values (no I/O).

Events from different topics arrive in any order (a credential may be logged before the
pass that caused it), so the enrolment read model keeps one timestamp per milestone and
derives stages from them: `first` fields keep the earliest value seen, `latest` fields
the newest. Decisions about a result (pass, fail, attendance only, withdrawal) carry
assessment's sequence: only the newest decision's outcome stands. Applying the same changes
twice, or in another order, gives the same row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from credstack.contracts import assessment, catalogue, enrolment, issuer, notifier
from credstack.contracts.envelope import Event


@dataclass(frozen=True)
class EnrolmentChange:
    enrolment_id: UUID
    first: dict[str, Any] = field(default_factory=dict)
    """Set only while still empty (ids, the first time a milestone was reached)."""
    latest: dict[str, Any] = field(default_factory=dict)
    """Overwritten by every event that carries them."""
    decision: dict[str, Any] = field(default_factory=dict)
    """A decision's outcome columns: written only when its `sequence` is not older than the
    newest decision the row holds, so an older pass, fail or withdrawal arriving late (or
    replayed) never overwrites a newer one."""
    sequence: int | None = None


@dataclass(frozen=True)
class OfferingChange:
    offering_id: UUID
    values: dict[str, Any]
    initial: dict[str, Any] = field(default_factory=dict)
    """Set only when the offering is new here: an OfferingScheduled redelivered or
    re-announced by the reconciler leaves an opened or cancelled offering as it is."""


@dataclass(frozen=True)
class Subjects:
    """What an event is about, for the stream's filters (None: unknown from the event)."""

    micro_credential_id: UUID | None = None
    offering_id: UUID | None = None
    learner_id: UUID | None = None
    enrolment_id: UUID | None = None


def subjects_of(event: Event) -> Subjects:
    def uuid_attr(name: str) -> UUID | None:
        value = getattr(event, name, None)
        return value if isinstance(value, UUID) else None

    offering_id = uuid_attr("offering_id")
    if isinstance(event, enrolment.EnrolmentTransferred):
        offering_id = event.to_offering_id
    return Subjects(
        micro_credential_id=uuid_attr("micro_credential_id"),
        offering_id=offering_id,
        learner_id=uuid_attr("learner_id"),
        enrolment_id=uuid_attr("enrolment_id"),
    )


def enrolment_change(event: Event) -> EnrolmentChange | None:
    # Long on purpose: one flat case per event type is the projection's whole table, read
    # top to bottom; splitting it would scatter the table, not simplify it.
    match event:
        case enrolment.EnrolmentRequested():
            return EnrolmentChange(
                event.enrolment_id,
                first={
                    "offering_id": event.offering_id,
                    "learner_id": event.learner_id,
                    "micro_credential_id": event.micro_credential_id,
                    "requested_at": event.requested_at,
                },
            )
        case enrolment.EnrolmentConfirmed():
            return EnrolmentChange(
                event.enrolment_id,
                first={
                    "offering_id": event.offering_id,
                    "learner_id": event.learner_id,
                    "micro_credential_id": event.micro_credential_id,
                    "requested_at": event.confirmed_at,
                    "confirmed_at": event.confirmed_at,
                },
            )
        case enrolment.EnrolmentTransferred():
            return EnrolmentChange(
                event.enrolment_id,
                first={"learner_id": event.learner_id},
                latest={
                    "offering_id": event.to_offering_id,
                    "micro_credential_id": event.micro_credential_id,
                },
            )
        case enrolment.EnrolmentCancelled():
            return EnrolmentChange(
                event.enrolment_id,
                first=_ids(event, "offering_id", "learner_id"),
                latest={"ended_as": "cancelled", "ended_at": event.cancelled_at},
            )
        case enrolment.EnrolmentWithdrawn():
            return EnrolmentChange(
                event.enrolment_id,
                first={"offering_id": event.offering_id, "learner_id": event.learner_id},
                latest={"ended_as": "withdrawn", "ended_at": event.withdrawn_at},
            )
        case enrolment.PaymentFailed():
            return EnrolmentChange(
                event.enrolment_id, latest={"payment_failed_at": event.failed_at}
            )
        case enrolment.PaymentRefunded():
            return EnrolmentChange(
                event.enrolment_id, latest={"ended_as": "refunded", "ended_at": event.refunded_at}
            )
        case enrolment.WaitlistSeatOffered():
            return EnrolmentChange(
                event.enrolment_id,
                first={"offering_id": event.offering_id, "learner_id": event.learner_id},
                latest={"seat_offer_expires_at": event.offer_expires_at},
            )
        case assessment.GradeRecorded():
            if not event.final:
                return None
            return EnrolmentChange(
                event.enrolment_id,
                first={"graded_at": event.recorded_at},
                latest={"score": event.score},
            )
        case assessment.AssessmentPassed():
            return _decision(event, passed_at=event.decided_at, score=event.score)
        case assessment.AssessmentFailed():
            return _decision(event, failed_at=event.decided_at, score=event.score)
        case assessment.AttendanceOnlyCompleted():
            return _decision(event, attendance_at=event.decided_at)
        case assessment.ResultWithdrawn():
            withdrawn = (
                "attendance_at" if event.released_outcome == "attendance_only" else "passed_at"
            )
            return EnrolmentChange(
                event.enrolment_id,
                first=_outcome_ids(event),
                decision={withdrawn: None},
                sequence=event.sequence,
            )
        case issuer.CredentialIssued():
            return EnrolmentChange(
                event.enrolment_id,
                first={
                    "learner_id": event.learner_id,
                    "micro_credential_id": event.micro_credential_id,
                    "credential_id": event.credential_id,
                    "credential_issued_at": event.issued_at,
                },
                latest={"credential_status": "issued"},
            )
        case issuer.CertificateOfAttendanceIssued():
            return EnrolmentChange(
                event.enrolment_id,
                first={"learner_id": event.learner_id, "certificate_issued_at": event.issued_at},
            )
    return None


def declaration_accepted(event: Event) -> tuple[UUID, int, datetime] | None:
    """A learner's acceptance covers all their enrolments (the funnel's "declaration
    accepted" counts the enrolments whose learner accepted it)."""
    if isinstance(event, enrolment.IntegrityDeclarationAccepted):
        return event.learner_id, event.version, event.accepted_at
    return None


def credential_status_change(event: Event) -> tuple[UUID, str] | None:
    """Revocation and suspension name the credential, not the enrolment."""
    match event:
        case issuer.CredentialRevoked():
            return event.credential_id, "revoked"
        case issuer.CredentialSuspended():
            return event.credential_id, "suspended"
        case issuer.CredentialReinstated():
            return event.credential_id, "issued"
    return None


def offering_change(event: Event) -> OfferingChange | None:
    match event:
        case catalogue.OfferingScheduled():
            return OfferingChange(
                event.offering_id,
                {
                    "micro_credential_id": event.micro_credential_id,
                    "code": event.code,
                    "title": event.title,
                    "starts_on": event.starts_on,
                    "capacity": event.capacity,
                },
                initial={"status": "scheduled"},
            )
        case catalogue.OfferingRescheduled():
            return OfferingChange(
                event.offering_id, {"starts_on": event.starts_on, "capacity": event.capacity}
            )
        case catalogue.OfferingCancelled():
            return OfferingChange(event.offering_id, {"status": "cancelled"})
        case catalogue.EnrolmentOpened():
            return OfferingChange(
                event.offering_id,
                {
                    "micro_credential_id": event.micro_credential_id,
                    "code": event.code,
                    "title": event.title,
                    "status": "open",
                },
            )
        case notifier.EnrolmentOpeningAnnounced():
            # interest is the notifier's (double opt-in): how many it told, never who
            return OfferingChange(event.offering_id, {"interested": event.interested})
    return None


def _ids(event: Event, *names: str) -> dict[str, Any]:
    return {name: value for name in names if (value := getattr(event, name, None)) is not None}


OUTCOME_COLUMNS = ("passed_at", "failed_at", "attendance_at")


def _decision(
    event: assessment.AssessmentPassed
    | assessment.AssessmentFailed
    | assessment.AttendanceOnlyCompleted,
    **values: Any,
) -> EnrolmentChange:
    """The decision's outcome replaces the others (a regrade from pass to fail)."""
    return EnrolmentChange(
        event.enrolment_id,
        first=_outcome_ids(event),
        decision={**dict.fromkeys(OUTCOME_COLUMNS), **values},
        sequence=event.sequence,
    )


def _outcome_ids(
    event: assessment.AssessmentPassed
    | assessment.AssessmentFailed
    | assessment.AttendanceOnlyCompleted
    | assessment.ResultWithdrawn,
) -> dict[str, Any]:
    return {"learner_id": event.learner_id, "micro_credential_id": event.micro_credential_id}


def latency_seconds(graded_at: datetime | None, issued_at: datetime | None) -> float | None:
    if graded_at is None or issued_at is None:
        return None
    return max(0.0, (issued_at - graded_at).total_seconds())
