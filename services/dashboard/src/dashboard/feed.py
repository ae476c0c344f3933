"""The live feed's sentences: each event in the words a centre's staff use (no I/O)."""

from __future__ import annotations

from credstack.contracts import assessment, catalogue, enrolment, issuer, notifier
from credstack.contracts.envelope import Event


def _short(value: object) -> str:
    return str(value)[:8]


def describe(event: Event, *, offering: str | None = None) -> str:
    """One sentence; `offering` names the offering (code and title) when known."""
    where = f" in {offering}" if offering else ""
    # Long on purpose: one case per event type, the feed's whole phrase book in one place.
    match event:
        case catalogue.MicroCredentialPublished():
            return f"{event.code} {event.title} (version {event.version}) was published"
        case catalogue.MicroCredentialRevised():
            return f"A new version ({event.version}) of a micro-credential was published"
        case catalogue.MicroCredentialDisestablished():
            return "A micro-credential was disestablished: it takes no new offerings"
        case catalogue.StackPublished():
            return f"Stack {event.code} {event.title} was published ({len(event.members)} members)"
        case catalogue.OfferingScheduled():
            return (
                f"An offering of {event.code} {event.title} was scheduled: starts "
                f"{event.starts_on.isoformat()}, {event.capacity} seats"
            )
        case catalogue.OfferingRescheduled():
            return f"An offering{where} was rescheduled to start {event.starts_on.isoformat()}"
        case catalogue.OfferingCancelled():
            return f"An offering{where} was cancelled: {event.reason}"
        case catalogue.EnrolmentOpened():
            return f"Enrolment opened for {event.code} {event.title}"
        case notifier.EnrolmentOpeningAnnounced():
            told = event.interested
            return (
                f"{told} interested {'person was' if told == 1 else 'people were'} told "
                f"that enrolment opened{where}"
            )
        case enrolment.IntegrityDeclarationAccepted():
            return f"A learner accepted the academic-integrity declaration (v{event.version})"
        case enrolment.EnrolmentRequested():
            return f"A learner asked to enrol{where}; the fee is not paid yet"
        case enrolment.EnrolmentConfirmed():
            return f"{event.learner_name or 'A learner'} is enrolled{where} (fee paid)"
        case enrolment.EnrolmentCancelled():
            return f"An enrolment{where} was cancelled: {event.reason}"
        case enrolment.EnrolmentWithdrawn():
            return f"A learner was withdrawn{where}: {event.reason}"
        case enrolment.EnrolmentTransferred():
            return f"A learner was transferred to another offering{where}"
        case enrolment.PaymentFailed():
            final = "; the enrolment is cancelled" if event.final else "; they may try again"
            return f"A payment failed{where} ({event.reason}){final}"
        case enrolment.PaymentRefunded():
            return f"A fee of {event.amount_cents / 100:.2f} was refunded{where}"
        case enrolment.WaitlistSeatOffered():
            return (
                f"A seat{where} was offered to a learner on the waitlist, until "
                f"{event.offer_expires_at:%d %b %H:%M} UTC"
            )
        case assessment.GradeRecorded():
            kind = "final grade" if event.final else "provisional grade"
            return f"A {kind} of {event.score}% arrived from {event.source}{where}"
        case assessment.AssessmentPassed():
            return f"A learner passed{where} with {event.score}%"
        case assessment.AssessmentFailed():
            return f"A learner did not pass{where} ({event.score}%)"
        case assessment.AttendanceOnlyCompleted():
            return f"A learner completed{where} on attendance only: a certificate of attendance"
        case assessment.ResultWithdrawn():
            return f"A released result{where} was withdrawn: {event.reason}"
        case assessment.PlacementAssessed():
            return f"A learner was placed at {event.level} in {event.language}"
        case issuer.CredentialIssued():
            return f"A credential was issued{where} ({_short(event.credential_id)})"
        case issuer.CertificateOfAttendanceIssued():
            return f"A certificate of attendance was issued{where}"
        case issuer.StackCredentialIssued():
            return "A stack credential was issued: a learner completed a stack"
        case issuer.CredentialRevoked():
            return f"Credential {_short(event.credential_id)} was revoked: {event.reason}"
        case issuer.CredentialSuspended():
            return f"Credential {_short(event.credential_id)} was suspended: {event.reason}"
        case issuer.CredentialReinstated():
            return f"Credential {_short(event.credential_id)} was reinstated"
    return f"{type(event).__name__} happened{where}"
