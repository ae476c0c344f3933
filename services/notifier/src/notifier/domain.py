"""What the notifier decides, without I/O: which message a fact calls for, in which
language, and a message's state."""

from __future__ import annotations

from enum import StrEnum

from credstack.refusals import NotFound, Reason, Refusal


class Kind(StrEnum):
    """Every message the notifier sends; each has a template in every shipped language."""

    INTEREST_CONFIRM = "interest_confirm"
    ENROLMENT_OPENED = "enrolment_opened"
    ENROLMENT_RECEIVED = "enrolment_received"
    DECLARATION_NEEDED = "declaration_needed"
    ENROLMENT_CONFIRMED = "enrolment_confirmed"
    PAYMENT_RECEIPT = "payment_receipt"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_EXPIRED = "payment_expired"
    SEAT_OFFERED = "seat_offered"
    OFFER_LAPSED = "offer_lapsed"
    OFFERING_RESCHEDULED = "offering_rescheduled"
    OFFERING_CANCELLED = "offering_cancelled"
    ENROLMENT_CANCELLED = "enrolment_cancelled"
    WITHDRAWN = "withdrawn"
    REFUND_ISSUED = "refund_issued"
    RESULT_PASSED = "result_passed"
    RESULT_NOT_YET = "result_not_yet"
    CREDENTIAL_ISSUED = "credential_issued"
    ATTENDANCE_ISSUED = "attendance_issued"
    STACK_ISSUED = "stack_issued"
    CREDENTIAL_REVOKED = "credential_revoked"
    CREDENTIAL_SUSPENDED = "credential_suspended"
    CREDENTIAL_REINSTATED = "credential_reinstated"


#: Messages a learner may turn off (preference `reminders`); every other message is about
#: their own enrolment, payment or credential and is always sent.
OPTIONAL: frozenset[Kind] = frozenset()

#: EnrolmentCancelled.cause -> the message it calls for.
CANCELLATION: dict[str | None, Kind] = {
    "offer_lapsed": Kind.OFFER_LAPSED,
    "payment_expired": Kind.PAYMENT_EXPIRED,
    "offering_cancelled": Kind.OFFERING_CANCELLED,
}


def cancellation_message(cause: str | None) -> Kind:
    return CANCELLATION.get(cause, Kind.ENROLMENT_CANCELLED)


class Stage(StrEnum):
    """Where an enrolment stands, as the learner page shows it: what it waits for."""

    REQUESTED = "requested"
    """Received; waits for a seat, staff review or payment."""
    SEAT_OFFERED = "seat_offered"
    DECLARATION = "declaration"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


class CredentialStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Status(StrEnum):
    PENDING = "pending"
    """Not sent yet (it may be waiting for the learner's address)."""
    SENT = "sent"
    FAILED = "failed"
    """Given up after the last attempt; staff may resend."""


def status_of(sent: bool, failed: bool) -> Status:
    return Status.SENT if sent else Status.FAILED if failed else Status.PENDING


def choose_language(shipped: frozenset[str], *preferred: str | None) -> str:
    """The first of ``preferred`` (BCP 47 tags, most wanted first) with a shipped
    translation, matched on the primary subtag; English otherwise."""
    for tag in preferred:
        if tag:
            primary = tag.split("-")[0].casefold()
            if primary in shipped:
                return primary
    return "en"


class UnknownMessage(NotFound):
    code = "message-not-found"


class UnknownMicroCredential(NotFound):
    code = "micro-credential-not-found"


class UnknownToken(NotFound):
    code = "token-not-found"


class NotYetSent(Refusal):
    code = "message-not-sent"
    reason = Reason.CONFLICT


class UnsupportedLanguage(Refusal):
    code = "language-not-supported"
    reason = Reason.UNPROCESSABLE
