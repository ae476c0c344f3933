"""What the notifier decides, without I/O: which message a fact calls for, in which
language, and a message's state."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

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
    STACK_PROGRESS = "stack_progress"
    STACK_ISSUED = "stack_issued"
    CREDENTIAL_REVOKED = "credential_revoked"
    CREDENTIAL_SUSPENDED = "credential_suspended"
    CREDENTIAL_REINSTATED = "credential_reinstated"
    CREDENTIAL_EXPIRING = "credential_expiring"


#: Messages a learner may turn off (preference `reminders`); every other message is about
#: their own enrolment, payment or credential and is always sent.
OPTIONAL: frozenset[Kind] = frozenset({Kind.CREDENTIAL_EXPIRING})

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


# -- credential expiry ------------------------------------------------------------------


def expiry_window(at: datetime, days_before: int) -> tuple[datetime, datetime]:
    """The ``validUntil`` instants whose reminder is due at ``at``: after ``at`` (not yet
    expired) and at most ``days_before`` days later."""
    return at, at + timedelta(days=days_before)


def expiry_reminder_due(
    valid_until: datetime | None,
    status: CredentialStatus,
    *,
    reminders: bool,
    at: datetime,
    days_before: int,
) -> bool:
    """A credential's "expiring soon" reminder is due from ``days_before`` days before its
    ``validUntil`` until it expires, while it is active (never for a revoked or suspended
    one) and the learner keeps reminders on. Once per credential: the caller's dedup key."""
    if valid_until is None or status is not CredentialStatus.ACTIVE or not reminders:
        return False
    start, end = expiry_window(at, days_before)
    return start < valid_until <= end


# -- stacks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StackProgress:
    """How far a learner is towards a stack ("2 of 4 in this series")."""

    stack_id: UUID
    title: str
    held: int
    required: int
    members: frozenset[UUID]

    @property
    def complete(self) -> bool:
        return self.held >= self.required


@dataclass(frozen=True)
class StackDefinition:
    id: UUID
    title: str
    members: frozenset[UUID]
    required: int


def held_micro_credentials(credentials: Iterable[tuple[str, str, UUID | None]]) -> set[UUID]:
    """The micro-credentials a learner holds, from their credentials as (kind, status,
    micro-credential): a micro-credential's own credential that is not revoked."""
    return {
        micro_credential_id
        for kind, status, micro_credential_id in credentials
        if kind == "micro_credential"
        and status != CredentialStatus.REVOKED
        and micro_credential_id is not None
    }


def stack_progress(
    held: Collection[UUID], stacks: Iterable[StackDefinition], completed: Collection[UUID]
) -> list[StackProgress]:
    """Progress towards each stack with a member among ``held`` (micro-credentials held by
    credentials that are not revoked) whose own credential is not among ``completed``."""
    return [
        StackProgress(s.id, s.title, len(s.members & set(held)), s.required, s.members)
        for s in stacks
        if s.id not in completed and s.members & set(held)
    ]


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
