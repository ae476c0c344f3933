"""The Stripe adapter through the `stripe` library, against a stand-in for Stripe's API on
127.0.0.1 (no network): what it sends, and how it reads Stripe's answers."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from uuid import uuid4

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from credstack.engines import free_port, wait_for_port
from enrolment.payments import CheckoutRequest, ProviderError
from enrolment.stripe_provider import StripeProvider


@dataclass
class FakeStripe:
    """Records each request; keeps one session whose state the test sets."""

    requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    session: dict[str, Any] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/v1/{path:path}", methods=["GET", "POST"])
        async def anything(path: str, request: Request) -> JSONResponse:
            form = dict(parse_qsl((await request.body()).decode()))
            params = {**dict(request.query_params), **form}
            self.requests.append((request.method, path, params, dict(request.headers)))
            if path == "checkout/sessions":
                self.session = {
                    "id": "cs_test_fake",
                    "object": "checkout.session",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_fake",
                    "expires_at": int(str(form["expires_at"])),
                    "status": "open",
                    "payment_status": "unpaid",
                    "amount_total": int(str(form["line_items[0][price_data][unit_amount]"])),
                    "payment_intent": None,
                }
                return JSONResponse(self.session)
            if path.startswith("checkout/sessions/") and path.split("/")[2] != self.session.get(
                "id"
            ):
                missing = {"type": "invalid_request_error", "message": "No such checkout.session"}
                return JSONResponse({"error": missing}, status_code=404)
            if path.endswith("/expire"):
                if self.session["status"] != "open":
                    return JSONResponse(
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "message": "Only open Checkout Sessions can be expired.",
                            }
                        },
                        status_code=400,
                    )
                self.session["status"] = "expired"
                return JSONResponse(self.session)
            if path.startswith("checkout/sessions/"):
                return JSONResponse(self.session)
            if path == "refunds":
                return JSONResponse({"id": "re_fake", "object": "refund", "status": "pending"})
            return JSONResponse({"error": {"type": "invalid_request_error"}}, status_code=404)

        return app


@pytest.fixture
async def stripe_api() -> AsyncIterator[tuple[FakeStripe, StripeProvider]]:
    fake = FakeStripe()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    await asyncio.to_thread(wait_for_port, port, timeout=10)
    try:
        yield fake, StripeProvider("sk_test_fake", api_base=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await serving


def checkout_request() -> CheckoutRequest:
    enrolment_id = uuid4()
    return CheckoutRequest(
        enrolment_id=enrolment_id,
        amount_cents=129500,
        currency="AUD",
        description="Upfront fee: Data Cleaning (MC-DATA-101)",
        customer_email="ada@example.org",
        expires_at=datetime.now(UTC) + timedelta(minutes=45),
        success_url="https://learn.example.org/thanks",
        cancel_url="https://learn.example.org/cancelled",
        metadata={"enrolment_id": str(enrolment_id)},
    )


async def test_a_checkout_session_names_the_enrolment_and_is_created_once(
    stripe_api: tuple[FakeStripe, StripeProvider],
) -> None:
    fake, provider = stripe_api
    request = checkout_request()

    session = await provider.create_checkout(request)

    method, path, params, headers = fake.requests[0]
    assert (method, path) == ("POST", "checkout/sessions")
    assert params["client_reference_id"] == str(request.enrolment_id)
    assert params["metadata[enrolment_id]"] == str(request.enrolment_id)
    assert params["payment_intent_data[metadata][enrolment_id]"] == str(request.enrolment_id)
    assert params["line_items[0][price_data][currency]"] == "aud"
    assert params["mode"] == "payment"
    assert headers["idempotency-key"].startswith(f"checkout:{request.enrolment_id}:")
    assert headers["authorization"] == "Bearer sk_test_fake"
    assert (session.id, session.url) == (
        "cs_test_fake",
        "https://checkout.stripe.com/c/pay/cs_test_fake",
    )
    assert session.expires_at == request.expires_at.replace(microsecond=0)


async def test_expiring_a_session_that_was_paid_meanwhile_reports_the_payment(
    stripe_api: tuple[FakeStripe, StripeProvider],
) -> None:
    fake, provider = stripe_api
    await provider.create_checkout(checkout_request())
    fake.session.update(
        status="complete",
        payment_status="paid",
        payment_intent={
            "id": "pi_1",
            "status": "succeeded",
            "latest_charge": {"amount_refunded": 0},
        },
    )

    state = await provider.expire_checkout("cs_test_fake")

    assert (state.status, state.payment_status, state.payment_intent_id) == (
        "complete",
        "paid",
        "pi_1",
    )
    retrieve = fake.requests[-1]
    assert (retrieve[0], retrieve[1]) == ("GET", "checkout/sessions/cs_test_fake")
    assert retrieve[2]["expand[0]"] == "payment_intent.latest_charge"


async def test_expiring_an_open_session_closes_it(
    stripe_api: tuple[FakeStripe, StripeProvider],
) -> None:
    _, provider = stripe_api
    await provider.create_checkout(checkout_request())
    assert (await provider.expire_checkout("cs_test_fake")).status == "expired"


async def test_a_refund_names_the_payment_and_carries_an_idempotency_key(
    stripe_api: tuple[FakeStripe, StripeProvider],
) -> None:
    fake, provider = stripe_api
    enrolment_id = uuid4()
    await provider.refund(enrolment_id=enrolment_id, payment_intent_id="pi_1", amount_cents=129500)
    method, path, params, headers = fake.requests[0]
    assert (method, path, params["payment_intent"], params["amount"]) == (
        "POST",
        "refunds",
        "pi_1",
        "129500",
    )
    assert headers["idempotency-key"] == f"refund:{enrolment_id}:129500"


async def test_stripe_errors_become_provider_errors(
    stripe_api: tuple[FakeStripe, StripeProvider],
) -> None:
    _, provider = stripe_api
    with pytest.raises(ProviderError):
        await provider.checkout_state("cs_does_not_exist_here")
