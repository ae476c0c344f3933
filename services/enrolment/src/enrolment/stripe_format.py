"""Stripe's wire format, as the local provider speaks it: the `Stripe-Signature` header, and
events whose `data.object` is a Checkout Session, a PaymentIntent or a Charge in Stripe's
shape (API version `STRIPE_API_VERSION`), built from a local session's row. No I/O."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

STRIPE_API_VERSION = "2024-06-20"


class SessionStatus(StrEnum):
    """A Stripe Checkout Session's `status`."""

    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


class SessionPayment(StrEnum):
    """A session's payment as this provider keeps it: Stripe's `payment_status`, plus
    `failed` for a delayed payment that failed (Stripe then says `unpaid`)."""

    UNPAID = "unpaid"
    PAID = "paid"
    FAILED = "failed"


def stripe_signature(payload: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """`Stripe-Signature` as Stripe sends it: one v1 HMAC-SHA256 per active secret."""
    signed = f"{timestamp}.".encode() + payload
    digests = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={d}" for d in digests)])


def unix_time(moment: datetime) -> int:
    return int(moment.timestamp())


def event(event_id: str, event_type: str, obj: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": unix_time(now),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def data_object(event_type: str, s: dict[str, Any], page_url: str) -> dict[str, Any]:
    """The event's `data.object` in Stripe's shape: a session, a payment intent or a charge."""
    kind = event_type.rsplit(".", 1)[0]
    if kind.startswith("checkout.session"):
        return _session_object(s, page_url)
    if kind == "payment_intent":
        return _intent_object(s, failed=event_type.endswith("payment_failed"))
    return _charge_object(s)


def _session_object(s: dict[str, Any], page_url: str) -> dict[str, Any]:
    return {
        "id": s["id"],
        "object": "checkout.session",
        "amount_subtotal": s["amount_cents"],
        "amount_total": s["amount_cents"],
        "cancel_url": s["cancel_url"],
        "client_reference_id": str(s["enrolment_id"]),
        "created": unix_time(s["created_at"]),
        "currency": s["currency"].lower(),
        "customer_email": s["customer_email"],
        "expires_at": unix_time(s["expires_at"]),
        "livemode": False,
        "metadata": s["metadata"],
        "mode": "payment",
        "payment_intent": s["payment_intent_id"] if s["status"] == SessionStatus.COMPLETE else None,
        "payment_status": "unpaid"
        if s["payment_status"] == SessionPayment.FAILED
        else s["payment_status"],
        "status": s["status"],
        "success_url": s["success_url"],
        "ui_mode": "hosted",
        "url": page_url if s["status"] == SessionStatus.OPEN else None,
    }


def _intent_object(s: dict[str, Any], *, failed: bool) -> dict[str, Any]:
    charge_id = "ch_local_" + s["payment_intent_id"].removeprefix("pi_local_")
    return {
        "id": s["payment_intent_id"],
        "object": "payment_intent",
        "amount": s["amount_cents"],
        "amount_received": 0 if failed else s["amount_cents"],
        "currency": s["currency"].lower(),
        "description": s["description"],
        "last_payment_error": (
            {
                "charge": charge_id,
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "type": "card_error",
            }
            if failed
            else None
        ),
        "latest_charge": charge_id,
        "livemode": False,
        "metadata": s["metadata"],
        "receipt_email": s["customer_email"],
        "status": "requires_payment_method" if failed else "succeeded",
    }


def _charge_object(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "ch_local_" + s["payment_intent_id"].removeprefix("pi_local_"),
        "object": "charge",
        "amount": s["amount_cents"],
        "amount_captured": s["amount_cents"],
        "amount_refunded": s["amount_refunded_cents"],
        "captured": True,
        "currency": s["currency"].lower(),
        "description": s["description"],
        "livemode": False,
        "metadata": s["metadata"],
        "paid": True,
        "payment_intent": s["payment_intent_id"],
        "receipt_email": s["customer_email"],
        "refunded": s["amount_refunded_cents"] >= s["amount_cents"],
        "status": "succeeded",
    }
