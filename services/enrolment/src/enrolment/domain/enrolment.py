"""An enrolment's life: seats, waitlist, up-front payment, confirmation. No I/O.

Each transition returns the events it produces (possibly none). Payment signals are
applied monotonically: a late or repeated signal never undoes a later state (a failure
after a success, an expiry after a payment, a second refund notice).

The caller counts seats (`states.SEAT_HOLDING`) under the offering's row lock, so seats
are never oversold.

Long on purpose: one aggregate, one class. Every transition (seat, payment, refund,
transfer) reads and guards the same state, and the monotonic payment rules read best
beside the seat rules they interlock with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from credstack.contracts.enrolment import (
    DeclarationRequired,
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentRequested,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
    PaymentFailed,
    PaymentRefunded,
    WaitlistSeatOffered,
)
from credstack.contracts.envelope import Event
from enrolment.domain.offering import Offering
from enrolment.domain.states import (
    ACTIVE,
    PAYABLE,
    REFUNDABLE,
    SEAT_HOLDING,
    SETTLED,
    EnrolmentError,
    OfferingStatus,
    PaymentStatus,
    Status,
)


class WrongStatus(EnrolmentError):
    code = "wrong-status"


class OfferExpired(EnrolmentError):
    code = "seat-offer-expired"


class TransferRefused(EnrolmentError):
    code = "transfer-refused"


class NothingToRefund(EnrolmentError):
    code = "nothing-to-refund"


@dataclass
class Enrolment:
    id: UUID
    learner_id: UUID
    learner_name: str
    email: str
    offering: Offering
    status: Status
    fee_cents: int
    currency: str
    payment_status: PaymentStatus
    requested_at: datetime
    hold_expires_at: datetime | None = None
    offer_expires_at: datetime | None = None
    waitlisted_at: datetime | None = None
    checkout_session_id: str | None = None
    checkout_url: str | None = None
    payment_intent_id: str | None = None
    amount_paid_cents: int = 0
    amount_refunded_cents: int = 0
    payment_error: str | None = None
    payment_flag: str | None = None
    """Why a payment signal was not applied but left for staff (a mismatched amount or
    currency, a session this service never created): never confirmed by such a signal."""
    refund_requested_at: datetime | None = None
    language_experience: bool | None = None
    experience_statement: str | None = None
    confirmed_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None

    @classmethod
    def request(
        cls,
        *,
        enrolment_id: UUID,
        learner_id: UUID,
        learner_name: str,
        email: str,
        offering: Offering,
        eligible: bool,
        seats_free: int,
        declaration_ok: bool,
        hold_until: datetime,
        at: datetime,
        language_experience: bool | None = None,
        experience_statement: str | None = None,
    ) -> tuple[Enrolment, list[Event]]:
        """A new enrolment: a seat if one is free, else the waitlist; staff review first
        when the learner is eligible only through declared experience (`eligible` False).
        """
        offering.check_open(at)
        enrolment = cls(
            id=enrolment_id,
            learner_id=learner_id,
            learner_name=learner_name,
            email=email,
            offering=offering,
            status=Status.AWAITING_APPROVAL,
            fee_cents=offering.fee_cents,
            currency=offering.currency,
            payment_status=(
                PaymentStatus.UNPAID if offering.fee_cents > 0 else PaymentStatus.NOT_REQUIRED
            ),
            requested_at=at,
            language_experience=language_experience,
            experience_statement=experience_statement,
        )
        events: list[Event] = [
            EnrolmentRequested(
                enrolment_id=enrolment_id,
                learner_id=learner_id,
                offering_id=offering.id,
                micro_credential_id=offering.micro_credential_id,
                micro_credential_version=offering.micro_credential_version,
                requested_at=at,
            )
        ]
        if eligible:
            events += enrolment._admit(seats_free, declaration_ok, hold_until, at)
        return enrolment, events

    @property
    def payment_due(self) -> bool:
        return self.fee_cents > 0

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_HOLDING

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def _require(self, *allowed: Status) -> None:
        if self.status not in allowed:
            raise WrongStatus(
                f"This enrolment is {self.status.value}; that needs it to be "
                f"{' or '.join(s.value for s in allowed)}.",
                enrolment_status=self.status.value,
            )

    def _admit(
        self, seats_free: int, declaration_ok: bool, hold_until: datetime, at: datetime
    ) -> list[Event]:
        if seats_free <= 0:
            self.status = Status.WAITLISTED
            self.waitlisted_at = at
            return []
        return self._take_seat(declaration_ok, hold_until, at)

    def _take_seat(self, declaration_ok: bool, hold_until: datetime, at: datetime) -> list[Event]:
        self.offer_expires_at = None
        if self.payment_due:
            self.status = Status.PENDING_PAYMENT
            self.hold_expires_at = hold_until
            return []
        return self._settle(declaration_ok, at)

    def _settle(self, declaration_ok: bool, at: datetime) -> list[Event]:
        """Paid or free: confirmed, or waiting for the integrity declaration."""
        self.hold_expires_at = None
        if not declaration_ok:
            self.status = Status.AWAITING_DECLARATION
            return [
                DeclarationRequired(
                    enrolment_id=self.id,
                    learner_id=self.learner_id,
                    offering_id=self.offering.id,
                    required_at=at,
                )
            ]
        return [self._confirm(at)]

    def reannouncement(self) -> EnrolmentConfirmed:
        """The confirmation again, as it stands (the reconciler's repair for a consumer
        that missed it); changes nothing."""
        if self.status is not Status.CONFIRMED or self.confirmed_at is None:
            raise WrongStatus(
                f"This enrolment is {self.status.value}; only a confirmed one is re-announced.",
                enrolment_status=self.status.value,
            )
        return self._confirmation(self.confirmed_at)

    def _confirm(self, at: datetime) -> EnrolmentConfirmed:
        self.status = Status.CONFIRMED
        self.confirmed_at = at
        return self._confirmation(at)

    def _confirmation(self, at: datetime) -> EnrolmentConfirmed:
        return EnrolmentConfirmed(
            enrolment_id=self.id,
            learner_id=self.learner_id,
            offering_id=self.offering.id,
            micro_credential_id=self.offering.micro_credential_id,
            micro_credential_version=self.offering.micro_credential_version,
            confirmed_at=at,
            amount_paid_cents=self.fee_cents if self.payment_status is PaymentStatus.PAID else None,
            currency=self.currency if self.payment_status is PaymentStatus.PAID else None,
        )

    def _end(self, reason: str, at: datetime, cause: str | None = None) -> list[Event]:
        """Cancelled, or withdrawn once confirmed; money received becomes due back only
        where the caller says so (a withdrawal is not automatically refunded)."""
        was_confirmed = self.status is Status.CONFIRMED
        self.status = Status.WITHDRAWN if was_confirmed else Status.CANCELLED
        self.ended_at = at
        self.end_reason = reason
        self.hold_expires_at = None
        self.offer_expires_at = None
        if was_confirmed:
            return [
                EnrolmentWithdrawn(
                    enrolment_id=self.id,
                    learner_id=self.learner_id,
                    offering_id=self.offering.id,
                    reason=reason,
                    withdrawn_at=at,
                )
            ]
        return [
            EnrolmentCancelled(
                enrolment_id=self.id,
                learner_id=self.learner_id,
                offering_id=self.offering.id,
                reason=reason,
                cancelled_at=at,
                cause=cause,
            )
        ]

    # Staff review of declared experience

    def decide_eligibility(
        self,
        *,
        approved: bool,
        note: str,
        seats_free: int,
        declaration_ok: bool,
        hold_until: datetime,
        at: datetime,
    ) -> list[Event]:
        self._require(Status.AWAITING_APPROVAL)
        if approved:
            return self._admit(seats_free, declaration_ok, hold_until, at)
        return self._end(f"not eligible: {note}" if note else "not eligible", at, "not_eligible")

    # Waitlist

    def offer_seat(self, *, offer_expires_at: datetime, at: datetime) -> WaitlistSeatOffered:
        self._require(Status.WAITLISTED)
        self.status = Status.SEAT_OFFERED
        self.offer_expires_at = offer_expires_at
        return WaitlistSeatOffered(
            enrolment_id=self.id,
            learner_id=self.learner_id,
            offering_id=self.offering.id,
            offer_expires_at=offer_expires_at,
            offered_at=at,
        )

    def accept_seat(
        self, *, declaration_ok: bool, hold_until: datetime, at: datetime
    ) -> list[Event]:
        self._require(Status.SEAT_OFFERED)
        if self.offer_expires_at is not None and at >= self.offer_expires_at:
            raise OfferExpired("This seat offer has expired; it went to the next learner.")
        return self._take_seat(declaration_ok, hold_until, at)

    def offer_lapsed(self, at: datetime) -> list[Event]:
        """The sweeper's call when an offer was not taken up: the seat goes to the next."""
        if self.status is not Status.SEAT_OFFERED or (
            self.offer_expires_at is not None and at < self.offer_expires_at
        ):
            return []
        return self._end("waitlist seat offer not taken up in time", at, "offer_lapsed")

    # The learner's own choices

    def accept_declaration(self, at: datetime) -> list[Event]:
        if self.status is not Status.AWAITING_DECLARATION:
            return []
        return [self._confirm(at)]

    def cancel_by_learner(self, at: datetime) -> list[Event]:
        """Leave the waitlist, decline an offer, or abandon an unpaid enrolment."""
        self._require(
            Status.WAITLISTED, Status.AWAITING_APPROVAL, Status.SEAT_OFFERED, Status.PENDING_PAYMENT
        )
        if self.payment_status not in PAYABLE | {PaymentStatus.NOT_REQUIRED}:
            raise WrongStatus("A payment is under way; ask staff to withdraw and refund.")
        return self._end("cancelled by the learner", at, "by_learner")

    # Payment signals (from the provider's webhooks, the sweeper or reconciliation)

    def checkout_started(self, *, session_id: str, url: str, expires_at: datetime) -> None:
        """A checkout session holds the seat for its whole lifetime. The first session
        started stays the enrolment's (a concurrent second one is left to expire)."""
        self._require(Status.PENDING_PAYMENT)
        if self.checkout_session_id is not None:
            return
        self.checkout_session_id = session_id
        self.checkout_url = url
        self.hold_expires_at = expires_at

    def payment_succeeded(
        self,
        *,
        amount_cents: int,
        currency: str | None,
        declaration_ok: bool,
        at: datetime,
        session_id: str | None = None,
        payment_intent_id: str | None = None,
    ) -> list[Event]:
        """The fee is paid. Money for an enrolment that is no longer active is due back.

        The payment must be for a checkout this service started (its session, or its
        payment intent once known) and for exactly the fee in the fee's currency; anything
        else is flagged for staff and confirms nothing."""
        if self.payment_status in SETTLED or self.payment_status is PaymentStatus.NOT_REQUIRED:
            return []
        mismatch = self.payment_mismatch(
            amount_cents=amount_cents,
            currency=currency,
            session_id=session_id,
            payment_intent_id=payment_intent_id,
        )
        if mismatch is not None:
            self.payment_flag = mismatch
            return []
        self.payment_status = PaymentStatus.PAID
        self.amount_paid_cents = amount_cents
        self.payment_error = None
        self.payment_intent_id = payment_intent_id or self.payment_intent_id
        if self.status in (Status.PENDING_PAYMENT, Status.PAYMENT_PROCESSING, Status.SEAT_OFFERED):
            return self._settle(declaration_ok, at)
        self.payment_status = PaymentStatus.REFUND_DUE
        return []

    def payment_mismatch(
        self,
        *,
        amount_cents: int,
        currency: str | None,
        session_id: str | None,
        payment_intent_id: str | None,
    ) -> str | None:
        """Why a payment signal does not match the checkout this service asked for, if so."""
        if self.checkout_session_id is None:
            return "a payment for a checkout this service never started"
        if session_id is not None and session_id != self.checkout_session_id:
            return f"a payment for checkout session {session_id}, not the one this service created"
        if payment_intent_id and self.payment_intent_id not in (None, payment_intent_id):
            return f"a payment through {payment_intent_id}, not this enrolment's payment"
        if amount_cents != self.fee_cents:
            return f"{amount_cents} cents paid where the fee is {self.fee_cents}"
        if currency is None or currency.upper() != self.currency.upper():
            return (
                f"paid in {currency or 'an unnamed currency'} where the fee is in {self.currency}"
            )
        return None

    def payment_processing(self, *, at: datetime, payment_intent_id: str | None = None) -> None:
        """Checkout completed with a delayed method: the hold no longer expires."""
        if self.status is not Status.PENDING_PAYMENT or self.payment_status not in PAYABLE:
            return
        self.status = Status.PAYMENT_PROCESSING
        self.payment_status = PaymentStatus.PROCESSING
        self.payment_intent_id = payment_intent_id or self.payment_intent_id
        self.hold_expires_at = None

    def payment_attempt_failed(self, *, reason: str, provider: str, at: datetime) -> list[Event]:
        """A declined attempt: the learner may try again while the hold lasts."""
        if self.status is not Status.PENDING_PAYMENT or self.payment_status not in PAYABLE:
            return []
        self.payment_status = PaymentStatus.FAILED
        self.payment_error = reason
        return [
            PaymentFailed(
                enrolment_id=self.id, provider=provider, reason=reason, final=False, failed_at=at
            )
        ]

    def payment_failed_finally(self, *, reason: str, provider: str, at: datetime) -> list[Event]:
        """A delayed payment failed: the enrolment is cancelled and its seat released."""
        if self.payment_status in SETTLED or self.status not in (
            Status.PENDING_PAYMENT,
            Status.PAYMENT_PROCESSING,
        ):
            return []
        self.payment_status = PaymentStatus.FAILED
        self.payment_error = reason
        failed = PaymentFailed(
            enrolment_id=self.id, provider=provider, reason=reason, final=True, failed_at=at
        )
        return [failed, *self._end(f"payment failed: {reason}", at, "payment_failed")]

    def checkout_expired(self, at: datetime) -> list[Event]:
        """The hold (or its checkout session) expired unpaid: the seat is released."""
        if self.status is not Status.PENDING_PAYMENT or self.payment_status not in PAYABLE:
            return []
        return self._end(
            "payment not completed before the seat hold expired", at, "payment_expired"
        )

    def refund_recorded(
        self, *, amount_refunded_cents: int, provider: str, at: datetime
    ) -> list[Event]:
        """The provider refunded (`amount_refunded_cents` in total so far). A full refund
        cancels an active enrolment and releases its seat."""
        if self.payment_status not in REFUNDABLE:
            return []
        refunded_now = amount_refunded_cents - self.amount_refunded_cents
        if refunded_now <= 0:
            return []
        self.amount_refunded_cents = amount_refunded_cents
        events: list[Event] = [
            PaymentRefunded(
                enrolment_id=self.id,
                provider=provider,
                amount_cents=refunded_now,
                refunded_at=at,
            )
        ]
        if amount_refunded_cents >= self.amount_paid_cents:
            self.payment_status = PaymentStatus.REFUNDED
            if self.active:
                events += self._end("refunded", at)
        return events

    # Staff

    def request_refund(self) -> None:
        if self.payment_status not in REFUNDABLE:
            raise NothingToRefund(
                f"Nothing to refund: the payment is {self.payment_status.value}.",
                payment_status=self.payment_status.value,
            )
        self.payment_status = PaymentStatus.REFUND_DUE

    def refund_sent(self, at: datetime) -> None:
        self.refund_requested_at = at

    def withdraw(self, *, reason: str, at: datetime) -> list[Event]:
        if not self.active:
            raise WrongStatus(f"This enrolment is already {self.status.value}.")
        return self._end(reason, at)

    def offering_cancelled(self, *, reason: str, at: datetime) -> list[Event]:
        if not self.active:
            return []
        if self.payment_status is PaymentStatus.PAID:
            self.payment_status = PaymentStatus.REFUND_DUE
        return self._end(f"offering cancelled: {reason}", at, "offering_cancelled")

    def transfer(self, *, to: Offering, seats_free: int, at: datetime) -> EnrolmentTransferred:
        """Move a paid (or free) enrolment to another cohort of the same micro-credential."""
        self._require(Status.CONFIRMED, Status.AWAITING_DECLARATION)
        if to.id == self.offering.id:
            raise TransferRefused("The enrolment is already in that offering.")
        if to.status is not OfferingStatus.SCHEDULED:
            raise TransferRefused(f"The target offering is {to.status.value}.")
        if to.micro_credential_id != self.offering.micro_credential_id:
            raise TransferRefused("A transfer stays within the same micro-credential.")
        if (to.fee_cents, to.currency) != (self.fee_cents, self.currency):
            raise TransferRefused(
                "The target offering's fee differs; withdraw, refund and enrol again instead."
            )
        if seats_free <= 0:
            raise TransferRefused("The target offering has no free seat.")
        source = self.offering
        self.offering = to
        return EnrolmentTransferred(
            enrolment_id=self.id,
            learner_id=self.learner_id,
            from_offering_id=source.id,
            to_offering_id=to.id,
            micro_credential_id=to.micro_credential_id,
            micro_credential_version=to.micro_credential_version,
            transferred_at=at,
        )
