"""What the provider's events mean, the Stripe request we build, and Stripe's signature."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import stripe
from pydantic import ValidationError

from enrolment.payments import (
    CheckoutRequest,
    CheckoutState,
    MalformedEvent,
    ProviderError,
    Signal,
    notice_from_event,
    notices_from_state,
)
from enrolment.settings import Settings
from enrolment.stripe_format import stripe_signature
from enrolment.stripe_provider import session_params, state_of

SAMPLES = Path(__file__).parents[1] / "samples" / "stripe"


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return event


@pytest.mark.parametrize(
    ("name", "signal", "amount", "reference"),
    [
        ("checkout.session.completed__paid", Signal.PAID, 49500, "enr_2025_000417"),
        (
            "checkout.session.completed__unpaid_delayed_method",
            Signal.PROCESSING,
            49500,
            "enr_2025_000422",
        ),
        ("checkout.session.async_payment_succeeded", Signal.PAID, 49500, "enr_2025_000422"),
        ("checkout.session.expired", Signal.EXPIRED, 49500, "enr_2025_000431"),
        ("payment_intent.succeeded", Signal.PAID, 49500, "enr_2025_000417"),
        ("payment_intent.payment_failed", Signal.ATTEMPT_FAILED, 0, "enr_2025_000436"),
        ("charge.refunded", Signal.REFUNDED, 49500, "enr_2025_000417"),
    ],
)
def test_every_sample_event_has_its_meaning(
    name: str, signal: Signal, amount: int, reference: str
) -> None:
    notice = notice_from_event(sample(name))
    assert notice is not None
    assert (notice.signal, notice.amount_cents, notice.enrolment_reference) == (
        signal,
        amount,
        reference,
    )
    assert notice.enrolment_id is None, "the samples' references are not enrolment ids of ours"


def test_a_failed_attempt_carries_the_providers_reason_and_a_refund_its_total() -> None:
    failed = notice_from_event(sample("payment_intent.payment_failed"))
    refunded = notice_from_event(sample("charge.refunded"))
    assert failed is not None and failed.reason == "Your card has insufficient funds."
    assert refunded is not None
    assert (refunded.amount_refunded_cents, refunded.payment_intent_id) == (
        49500,
        "pi_3R2bXcLkdIwHu7ix1f9Dk2Qa",
    )


def test_a_session_names_its_payment_intent_so_later_charge_events_find_the_enrolment() -> None:
    notice = notice_from_event(sample("checkout.session.completed__paid"))
    assert notice is not None
    assert notice.payment_intent_id == "pi_3R2bXcLkdIwHu7ix1f9Dk2Qa"
    assert notice.session_id == "cs_test_a1Q8vZ3kT7mR2xN5cL9pB4yW6dF0hJ3sG8uK1eA7iO2qV5nX9zC4"


def test_events_that_change_nothing_here_have_no_meaning() -> None:
    assert notice_from_event({"type": "customer.created", "data": {"object": {}}}) is None
    assert (
        notice_from_event({"type": "checkout.session.async_payment_x", "data": {"object": {}}})
        is None
    )


@pytest.mark.parametrize(
    "event",
    [
        {"type": "checkout.session.completed"},
        {"type": "checkout.session.completed", "data": {"object": []}},
        {"type": "checkout.session.completed", "data": {"object": {"amount_total": 1e400}}},
        {"type": "charge.refunded", "data": {"object": {"amount_refunded": -5}}},
        {"type": "checkout.session.completed", "data": {"object": {"currency": "a\x00"}}},
        {"type": "payment_intent.payment_failed", "data": {"object": {"last_payment_error": 1}}},
    ],
)
def test_a_malformed_event_is_refused_not_guessed_at(event: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        notice_from_event(event)


def test_a_reference_that_is_our_enrolment_id_is_read_from_the_metadata_too() -> None:
    enrolment_id = uuid4()
    event = sample("payment_intent.succeeded")
    event["data"]["object"]["metadata"]["enrolment_id"] = str(enrolment_id)
    notice = notice_from_event(event)
    assert notice is not None and notice.enrolment_id == enrolment_id


@pytest.mark.parametrize(
    ("state", "signals"),
    [
        (CheckoutState("cs_1", "open", "unpaid", 100), []),
        (CheckoutState("cs_1", "expired", "unpaid", 100), [Signal.EXPIRED]),
        (CheckoutState("cs_1", "complete", "unpaid", 100), [Signal.PROCESSING]),
        (CheckoutState("cs_1", "complete", "unpaid", 100, payment_failed=True), [Signal.FAILED]),
        (CheckoutState("cs_1", "complete", "paid", 100), [Signal.PAID]),
        (
            CheckoutState("cs_1", "complete", "paid", 100, amount_refunded_cents=100),
            [Signal.PAID, Signal.REFUNDED],
        ),
    ],
)
def test_a_sessions_state_says_what_happened_in_order(
    state: CheckoutState, signals: list[Signal]
) -> None:
    assert [n.signal for n in notices_from_state(state, uuid4())] == signals


def test_the_stripe_session_names_the_enrolment_in_the_reference_and_the_intents_metadata() -> None:
    enrolment_id = uuid4()
    expires = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    params = session_params(
        CheckoutRequest(
            enrolment_id=enrolment_id,
            amount_cents=129500,
            currency="AUD",
            description="Upfront fee: Data Cleaning (MC-DATA-101)",
            customer_email="ada@example.org",
            expires_at=expires,
            success_url="https://learn.example.org/thanks",
            cancel_url="https://learn.example.org/cancelled",
            metadata={"enrolment_id": str(enrolment_id)},
        )
    )
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(enrolment_id)
    assert params["metadata"] == {"enrolment_id": str(enrolment_id)}
    assert params["payment_intent_data"]["metadata"] == {"enrolment_id": str(enrolment_id)}
    assert params["line_items"][0]["price_data"] == {
        "currency": "aud",
        "unit_amount": 129500,
        "product_data": {"name": "Upfront fee: Data Cleaning (MC-DATA-101)"},
    }
    assert params["expires_at"] == int(expires.timestamp())
    assert "payment_method_options" not in params, "no instalments are ever offered"


def test_a_stripe_session_with_its_intent_expanded_tells_refunds_and_failed_settlements() -> None:
    session = {
        "id": "cs_1",
        "status": "complete",
        "payment_status": "unpaid",
        "amount_total": 100,
        "payment_intent": {
            "id": "pi_1",
            "status": "requires_payment_method",
            "latest_charge": {"amount_refunded": 0},
        },
    }
    assert state_of(session).payment_failed is True
    refunded = {
        **session,
        "payment_status": "paid",
        "payment_intent": {
            "id": "pi_1",
            "status": "succeeded",
            "latest_charge": {"amount_refunded": 40},
        },
    }
    assert (state_of(refunded).amount_refunded_cents, state_of(refunded).payment_failed) == (
        40,
        False,
    )


def test_the_signature_is_stripes_own_test_vector() -> None:
    header = stripe_signature(b'{"id":"evt_test"}', ["whsec_test_secret"], 1741946712)
    assert header == (
        "t=1741946712,v1=d74448f740630c330273f9a284fd70285f7ac5bbb2862a39567898345ae848c6"
    )


def test_during_a_rotation_each_secret_signs_and_the_stripe_library_accepts_either() -> None:
    body = b'{"id":"evt_test","object":"event"}'
    now = int(datetime.now(UTC).timestamp())
    header = stripe_signature(body, ["whsec_old", "whsec_new"], now)
    assert header.count("v1=") == 2
    for secret in ("whsec_old", "whsec_new"):
        stripe.Webhook.construct_event(body, header, secret, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_other", tolerance=300)


REAL_LOOKING_SECRET = "whsec_" + "k" * 32


def test_stripe_is_chosen_only_with_its_secret_key() -> None:
    with pytest.raises(ValidationError, match="ENROLMENT_STRIPE_API_KEY"):
        Settings(payment_provider="stripe", stripe_webhook_secrets=[REAL_LOOKING_SECRET])
    chosen = Settings(
        payment_provider="stripe",
        stripe_api_key="sk_test_1",
        stripe_webhook_secrets=[REAL_LOOKING_SECRET],
    )
    assert chosen.payment_provider == "stripe"


@pytest.mark.parametrize(
    "secrets",
    [None, [], ["whsec_credstack_dev"], ["whsec_change_me"], [REAL_LOOKING_SECRET, ""]],
    ids=["the dev default", "none", "the dev secret", "a placeholder", "an empty one"],
)
def test_stripe_refuses_to_start_without_real_webhook_secrets(secrets: list[str] | None) -> None:
    given = {} if secrets is None else {"stripe_webhook_secrets": secrets}
    with pytest.raises(ValidationError, match="ENROLMENT_STRIPE_WEBHOOK_SECRETS"):
        Settings(payment_provider="stripe", stripe_api_key="sk_test_1", **given)


def test_the_local_provider_runs_only_in_the_dev_stack() -> None:
    with pytest.raises(ValidationError, match="ENROLMENT_PAYMENT_PROVIDER"):
        Settings(payment_provider="local", dev_stack=False)
    assert Settings(payment_provider="local", dev_stack=True).payment_provider == "local"


def test_a_provider_that_fails_us_is_refused_as_a_bad_gateway() -> None:
    refusal = ProviderError("Stripe could not be reached")

    assert (refusal.status, refusal.code) == (502, "payment-provider-unavailable")
