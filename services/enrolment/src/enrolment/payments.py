"""The payment-provider port, and what the provider's events mean for an enrolment.

Two adapters implement the port: `StripeProvider` (Stripe Checkout) and `LocalProvider`
(the dev stack's checkout page, which sends webhooks in Stripe's exact format). Both
speak Stripe's event format, so one interpretation (`notice_from_event`) serves both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol
from uuid import UUID

from credstack.refusals import Reason, Refusal


class ProviderError(Refusal):
    """The payment provider refused a request or could not be reached (502)."""

    code = "payment-provider-unavailable"
    reason = Reason.BAD_GATEWAY


@dataclass(frozen=True)
class CheckoutRequest:
    enrolment_id: UUID
    amount_cents: int
    currency: str
    description: str
    customer_email: str
    expires_at: datetime
    success_url: str
    cancel_url: str
    metadata: dict[str, str]
    """Copied to the session and to its payment intent (Stripe does not copy it itself)."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class CheckoutState:
    """What the provider says about one checkout session now."""

    session_id: str
    status: Literal["open", "complete", "expired"]
    payment_status: Literal["paid", "unpaid", "no_payment_required"]
    amount_total: int
    currency: str = ""
    payment_intent_id: str | None = None
    amount_refunded_cents: int = 0
    payment_failed: bool = False
    """A completed session whose delayed payment failed."""


class PaymentProvider(Protocol):
    name: str
    minimum_session_seconds: int
    """The shortest checkout session the provider accepts (Stripe: 30 minutes)."""

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    async def checkout_state(self, session_id: str) -> CheckoutState: ...

    async def expire_checkout(self, session_id: str) -> CheckoutState:
        """Close an open session so nobody can pay it any more; its state afterwards
        (a session completed meanwhile stays complete)."""
        ...

    async def refund(
        self, *, enrolment_id: UUID, payment_intent_id: str, amount_cents: int
    ) -> None:
        """Ask for a refund; the provider confirms it later with a `charge.refunded` event."""
        ...


class Signal(StrEnum):
    PAID = "paid"
    PROCESSING = "processing"
    ATTEMPT_FAILED = "attempt_failed"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class PaymentNotice:
    """One fact about a payment, from a webhook, the sweeper or reconciliation."""

    signal: Signal
    enrolment_reference: str | None = None
    session_id: str | None = None
    payment_intent_id: str | None = None
    amount_cents: int = 0
    currency: str | None = None
    amount_refunded_cents: int = 0
    reason: str = ""

    @property
    def enrolment_id(self) -> UUID | None:
        try:
            return UUID(str(self.enrolment_reference)) if self.enrolment_reference else None
        except ValueError:
            return None


def _reference(obj: dict[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    reference = obj.get("client_reference_id") or metadata.get("enrolment_id")
    return str(reference) if reference else None


def _intent_id(obj: dict[str, Any]) -> str | None:
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        return str(intent["id"]) if intent.get("id") else None
    return str(intent) if intent else None


class MalformedEvent(Refusal):
    """A validly signed event whose data is not what its type promises."""

    code = "malformed-webhook"
    reason = Reason.MALFORMED


_MAX_AMOUNT = 2**31 - 1  # the amount columns are 32-bit; Stripe's own limit is far below


def _amount(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_AMOUNT:
        raise MalformedEvent(f"An amount in the event is not a whole number of cents: {value!r}.")
    return value


def _text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        raise MalformedEvent(f"The event's {name} is not a short string.")
    return value


def _currency(obj: dict[str, Any]) -> str | None:
    return _text(obj.get("currency"), "currency")


def notice_from_event(event: dict[str, Any]) -> PaymentNotice | None:
    """The meaning of a Stripe-format event, or None for an event that changes nothing here.

    A signed event whose data has the wrong shape is refused (`MalformedEvent`)."""
    kind = event.get("type", "")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata") or {}, dict):
        raise MalformedEvent("The event's data.object is not an object.")
    for name in ("id", "client_reference_id"):
        _text(obj.get(name), name)
    intent = obj.get("payment_intent")
    _text(intent.get("id") if isinstance(intent, dict) else intent, "payment_intent")
    if kind.startswith("checkout.session."):
        session = PaymentNotice(
            Signal.PAID,
            enrolment_reference=_reference(obj),
            session_id=obj.get("id"),
            payment_intent_id=_intent_id(obj),
            amount_cents=_amount(obj.get("amount_total")),
            currency=_currency(obj),
        )
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if obj.get("payment_status") in ("paid", "no_payment_required"):
                return session
            return replace(session, signal=Signal.PROCESSING)
        if kind == "checkout.session.async_payment_failed":
            return replace(session, signal=Signal.FAILED, reason="the delayed payment failed")
        if kind == "checkout.session.expired":
            return replace(session, signal=Signal.EXPIRED)
        return None
    if kind == "payment_intent.succeeded":
        return PaymentNotice(
            Signal.PAID,
            enrolment_reference=_reference(obj),
            payment_intent_id=obj.get("id"),
            amount_cents=_amount(obj.get("amount_received") or obj.get("amount")),
            currency=_currency(obj),
        )
    if kind == "payment_intent.payment_failed":
        error = obj.get("last_payment_error") or {}
        if not isinstance(error, dict):
            raise MalformedEvent("The event's last_payment_error is not an object.")
        return PaymentNotice(
            Signal.ATTEMPT_FAILED,
            enrolment_reference=_reference(obj),
            payment_intent_id=obj.get("id"),
            reason=str(error.get("message") or error.get("code") or "the payment was declined"),
        )
    if kind == "charge.refunded":
        return PaymentNotice(
            Signal.REFUNDED,
            enrolment_reference=_reference(obj),
            payment_intent_id=_intent_id(obj),
            amount_cents=_amount(obj.get("amount")),
            currency=_currency(obj),
            amount_refunded_cents=_amount(obj.get("amount_refunded")),
        )
    return None


def notices_from_state(state: CheckoutState, enrolment_id: UUID) -> list[PaymentNotice]:
    """What a session's current state says, in the order it happened."""
    paid = PaymentNotice(
        Signal.PAID,
        enrolment_reference=str(enrolment_id),
        session_id=state.session_id,
        payment_intent_id=state.payment_intent_id,
        amount_cents=state.amount_total,
        currency=state.currency or None,
    )
    if state.status == "expired":
        return [replace(paid, signal=Signal.EXPIRED)]
    if state.status == "open":
        return []
    if state.payment_status == "unpaid":
        if state.payment_failed:
            return [replace(paid, signal=Signal.FAILED, reason="the delayed payment failed")]
        return [replace(paid, signal=Signal.PROCESSING)]
    if state.amount_refunded_cents:
        refunded = replace(
            paid, signal=Signal.REFUNDED, amount_refunded_cents=state.amount_refunded_cents
        )
        return [paid, refunded]
    return [paid]
