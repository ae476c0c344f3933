"""The states of enrolments, payments, offerings and held credentials, and the refusal base.

Seats: an enrolment holds a seat while it is `seat_offered`, `pending_payment` (until
`hold_expires_at`), `payment_processing`, `awaiting_declaration` or `confirmed`.
"""

from __future__ import annotations

from enum import StrEnum

from credstack.refusals import Reason, Refusal


class EnrolmentError(Refusal):
    """A request the enrolment rules refuse. `code` is a stable slug naming the refusal;
    unless a subclass says otherwise it conflicts with what is recorded (409)."""

    code = "enrolment-refused"
    reason = Reason.CONFLICT


class Status(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    """Prerequisites not held; staff review the learner's declared experience. No seat."""
    WAITLISTED = "waitlisted"
    SEAT_OFFERED = "seat_offered"
    """A freed seat is held for this waitlisted learner until `offer_expires_at`."""
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_PROCESSING = "payment_processing"
    """Checkout completed with a delayed method (e.g. bank debit); the seat stays held."""
    AWAITING_DECLARATION = "awaiting_declaration"
    """Paid (or free) and eligible; confirmed once the integrity declaration is accepted."""
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


SEAT_HOLDING = frozenset(
    {
        Status.SEAT_OFFERED,
        Status.PENDING_PAYMENT,
        Status.PAYMENT_PROCESSING,
        Status.AWAITING_DECLARATION,
        Status.CONFIRMED,
    }
)
ACTIVE = SEAT_HOLDING | {Status.WAITLISTED, Status.AWAITING_APPROVAL}


class PaymentStatus(StrEnum):
    NOT_REQUIRED = "not_required"
    UNPAID = "unpaid"
    FAILED = "failed"
    """The last attempt failed; while the hold lasts the learner may try again."""
    PROCESSING = "processing"
    PAID = "paid"
    REFUND_DUE = "refund_due"
    """Money was received that must go back (cancelled offering, late payment, staff)."""
    REFUNDED = "refunded"


SETTLED = frozenset({PaymentStatus.PAID, PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED})
PAYABLE = frozenset({PaymentStatus.UNPAID, PaymentStatus.FAILED})
REFUNDABLE = frozenset({PaymentStatus.PAID, PaymentStatus.REFUND_DUE})


class OfferingStatus(StrEnum):
    """An offering as the catalogue announced it (the read model knows no other states)."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Standing(StrEnum):
    """A credential a learner holds, as the issuer announced it; only `active` counts."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
