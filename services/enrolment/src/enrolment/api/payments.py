"""The payment provider's webhook endpoint (Stripe's format and signature), and the page
the provider sends the learner back to after checkout."""

from __future__ import annotations

import html
import json
from typing import Annotated, Any

import stripe
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from credstack import access
from credstack.clock import now
from credstack.refusals import Reason, Refusal
from credstack.service import Engine
from enrolment.api.common import Flows
from enrolment.payments import notice_from_event
from enrolment.settings import Settings
from enrolment.usecases import payments

router = APIRouter(tags=["payments"])


class MissingSignature(Refusal):
    code = "missing-signature"
    reason = Reason.MALFORMED


class MalformedWebhook(Refusal):
    code = "malformed-webhook"
    reason = Reason.MALFORMED


class BadSignature(Refusal):
    code = "bad-signature"
    reason = Reason.MALFORMED


def verified_event(payload: bytes, signature: str | None, settings: Settings) -> dict[str, Any]:
    """The provider's event (as plain JSON) if a current secret signed it recently.

    The `stripe` library checks the signature and the timestamp's tolerance; the header may
    carry several signatures, and several secrets are tried during a rotation. (Only its
    check: its `construct_event` also parses the body into its own objects, which cost
    more CPU than the check, and the body is parsed here anyway.)
    """
    if not signature:
        raise MissingSignature("The Stripe-Signature header is required.")
    _refuse_future_timestamps(signature, settings.stripe_webhook_tolerance_seconds)
    for secret in settings.stripe_webhook_secrets:
        try:
            stripe.WebhookSignature.verify_header(
                payload,
                signature,
                secret.get_secret_value(),
                tolerance=settings.stripe_webhook_tolerance_seconds,
            )
            event: Any = json.loads(payload)
        except stripe.SignatureVerificationError:
            continue
        except (ValueError, TypeError, AttributeError) as error:
            raise MalformedWebhook(f"The body is not a Stripe event: {error}") from error
        if not isinstance(event, dict) or not all(
            isinstance(event.get(name), str) and 0 < len(event[name]) <= 255
            for name in ("id", "type")
        ):
            raise MalformedWebhook("The event has no id or type.")
        return event
    raise BadSignature("No current webhook secret signed this payload within the tolerance.")


def _refuse_future_timestamps(signature: str, tolerance: int) -> None:
    """The `stripe` library refuses stale timestamps only; one from the future is as
    suspect (a replay prepared in advance), so it is refused the same way."""
    stamps = [part.removeprefix("t=") for part in signature.split(",") if part.startswith("t=")]
    latest = int(now().timestamp()) + tolerance
    for stamp in stamps:
        if not stamp.isdigit() or len(stamp) > 12 or int(stamp) > latest:
            raise BadSignature("The signature's timestamp is not within the tolerance of now.")


class WebhookReceipt(BaseModel):
    received: bool
    duplicate: bool
    outcome: str | None


@router.post(
    "/payments/stripe/webhook", response_model=WebhookReceipt, summary="Stripe webhook endpoint"
)
@access.scheme("payment provider: signed webhook (Stripe-Signature)")
async def stripe_webhook(
    request: Request,
    engine: Engine,
    flows: Flows,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookReceipt:
    """Applies each event once (deduplicated on its id), monotonically: a late or repeated
    event never undoes a later state. Events about payments that are not enrolments of
    ours are acknowledged and ignored."""
    settings: Settings = request.app.state.settings
    event = verified_event(await request.body(), stripe_signature, settings)
    async with engine.begin() as conn:
        outcome = await payments.record_provider_event(
            conn,
            event_id=event["id"],
            event_type=event["type"],
            payload=event,
            notice=notice_from_event(event),
            provider=flows.provider.name,
            policy=flows.policy,
            now=now(),
        )
    return WebhookReceipt(received=True, duplicate=outcome is None, outcome=outcome)


@router.get(
    "/payments/return",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
    include_in_schema=False,
)
@access.public
async def payment_return(
    enrolment_id: Annotated[str, Query()], outcome: Annotated[str, Query()] = "paid"
) -> HTMLResponse:
    """Where checkout sends the learner back when no website URL is configured."""
    message = (
        "Thank you: your payment is being confirmed. Your enrolment's status shows when it is done."
        if outcome == "paid"
        else "You left the checkout without paying. Your seat stays held until the hold expires."
    )
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Enrolment</title>"
        f"</head><body><main><h1>Enrolment {html.escape(enrolment_id)}</h1>"
        f"<p>{html.escape(message)}</p></main></body></html>"
    )
