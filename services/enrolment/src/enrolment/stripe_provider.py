"""The Stripe adapter of the payment port: Stripe Checkout through the `stripe` library.

The enrolment id travels as the session's `client_reference_id` and in the metadata of
both the session and its payment intent, so every event Stripe sends names the enrolment.
Requests that create carry idempotency keys: a retry after a timeout never creates a
second session or a second refund.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import stripe

from enrolment.payments import CheckoutRequest, CheckoutSession, CheckoutState, ProviderError

# Stripe refuses a Checkout Session that expires sooner than 30 minutes after creation.
_MINIMUM_SESSION_SECONDS = 31 * 60
_FAILED_INTENT_STATUSES = ("requires_payment_method", "canceled")


def session_params(request: CheckoutRequest) -> dict[str, Any]:
    """The Checkout Session Stripe is asked to create for one enrolment's fee."""
    return {
        "mode": "payment",
        "client_reference_id": str(request.enrolment_id),
        "customer_email": request.customer_email,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": request.currency.lower(),
                    "unit_amount": request.amount_cents,
                    "product_data": {"name": request.description},
                },
            }
        ],
        "metadata": request.metadata,
        "payment_intent_data": {
            "description": request.description,
            "metadata": request.metadata,
        },
        "expires_at": int(request.expires_at.timestamp()),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }


def state_of(session: dict[str, Any]) -> CheckoutState:
    """A session (with its payment intent and latest charge expanded) as the port's state."""
    intent = session.get("payment_intent")
    intent_id: str | None = None
    refunded = 0
    failed = False
    if isinstance(intent, str):
        intent_id = intent
    elif intent:
        intent_id = intent["id"]
        failed = intent.get("status") in _FAILED_INTENT_STATUSES
        charge = intent.get("latest_charge")
        if charge and not isinstance(charge, str):
            refunded = int(charge.get("amount_refunded") or 0)
    return CheckoutState(
        session_id=session["id"],
        status=session["status"],
        payment_status=session["payment_status"],
        amount_total=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or ""),
        payment_intent_id=intent_id,
        amount_refunded_cents=refunded,
        payment_failed=failed and session["payment_status"] == "unpaid",
    )


class StripeProvider:
    name = "stripe"
    minimum_session_seconds = _MINIMUM_SESSION_SECONDS

    def __init__(self, api_key: str, *, api_base: str | None = None) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,
        )

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        expires = int(request.expires_at.timestamp())
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                session_params(request),  # type: ignore[arg-type]
                {"idempotency_key": f"checkout:{request.enrolment_id}:{expires}"},
            )
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe refused the checkout session: {error}") from error
        return CheckoutSession(
            id=session.id,
            url=str(session.url),
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
        )

    async def checkout_state(self, session_id: str) -> CheckoutState:
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(
                session_id, {"expand": ["payment_intent.latest_charge"]}
            )
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe could not return session {session_id}: {error}") from error
        return state_of(session.to_dict())

    async def expire_checkout(self, session_id: str) -> CheckoutState:
        try:
            await self._client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError:
            pass  # no longer open: completed or already expired; its state says which
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe could not expire session {session_id}: {error}") from error
        return await self.checkout_state(session_id)

    async def refund(
        self, *, enrolment_id: UUID, payment_intent_id: str, amount_cents: int
    ) -> None:
        try:
            await self._client.v1.refunds.create_async(
                {
                    "payment_intent": payment_intent_id,
                    "amount": amount_cents,
                    "metadata": {"enrolment_id": str(enrolment_id)},
                },
                {"idempotency_key": f"refund:{enrolment_id}:{amount_cents}"},
            )
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe refused the refund: {error}") from error
