import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlalchemy import func, select

from credstack.contracts.catalogue import OfferingScheduled
from credstack.demo import checkout_completed, stripe_signature
from credstack.testing import ServiceUnderTest, Tokens, deliver, staged_events
from enrolment import tables

from .conftest import WEBHOOK_SECRET


async def offering(
    enrolment: ServiceUnderTest, *, fee_cents: int = 129500, capacity: int = 30
) -> UUID:
    now = datetime.now(UTC)
    event = OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=uuid4(),
        micro_credential_version=1,
        code="MC-DATA-101",
        title="Data Cleaning",
        starts_on=(now + timedelta(days=14)).date(),
        ends_on=(now + timedelta(days=60)).date(),
        enrolment_opens_at=now - timedelta(days=1),
        enrolment_closes_at=now + timedelta(days=10),
        capacity=capacity,
        delivery_mode="on-campus",
        fee_cents=fee_cents,
    )
    assert await deliver(enrolment.app, event) == "applied"
    return event.offering_id


async def enrol(
    enrolment: ServiceUnderTest,
    tokens: Tokens,
    offering_id: UUID,
    *,
    key: str | None = None,
    learner: str = "ada",
) -> httpx.Response:
    return await enrolment.http.post(
        "/enrolments",
        json={
            "offering_id": str(offering_id),
            "learner_name": "Ada Lovelace",
            "email": "ada@example.org",
        },
        headers={**tokens("learner", learner), "Idempotency-Key": key or uuid4().hex},
    )


async def webhook(
    enrolment: ServiceUnderTest, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET
) -> httpx.Response:
    body = json.dumps(event).encode()
    return await enrolment.http.post(
        "/payments/stripe/webhook",
        content=body,
        headers={
            "Stripe-Signature": stripe_signature(body, secret),
            "Content-Type": "application/json",
        },
    )


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].split(".")[2] for e in events]


async def test_a_paid_enrolment_is_confirmed_by_the_providers_webhook(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrol(enrolment, tokens, offering_id)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending_payment"

    paid = await webhook(enrolment, checkout_completed(created.json()["id"], 129500))

    assert paid.status_code == 200
    assert paid.json()["applied"] is True
    view = await enrolment.http.get(
        f"/enrolments/{created.json()['id']}", headers=tokens("learner", "ada")
    )
    assert view.json()["status"] == "confirmed"
    events = await staged_events(enrolment.engine, tables.outbox)
    assert types(events) == ["EnrolmentRequested", "EnrolmentConfirmed"]
    assert events[1]["data"]["learner_name"] == "Ada Lovelace"
    assert events[1]["data"]["email"] == "ada@example.org"


async def test_a_free_enrolment_confirms_without_payment(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, fee_cents=0)
    created = await enrol(enrolment, tokens, offering_id)
    assert created.json()["status"] == "confirmed"
    assert types(await staged_events(enrolment.engine, tables.outbox)) == [
        "EnrolmentRequested",
        "EnrolmentConfirmed",
    ]


async def test_the_same_idempotency_key_and_body_returns_the_first_response(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    first = await enrol(enrolment, tokens, offering_id, key="k-1")
    again = await enrol(enrolment, tokens, offering_id, key="k-1")
    other_body = await enrolment.http.post(
        "/enrolments",
        json={
            "offering_id": str(offering_id),
            "learner_name": "Someone Else",
            "email": "x@example.org",
        },
        headers={**tokens("learner", "ada"), "Idempotency-Key": "k-1"},
    )

    assert again.status_code == 201
    assert again.json() == first.json()
    assert other_body.status_code == 422
    assert other_body.json()["type"].endswith("/idempotency-key-reused")
    async with enrolment.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.enrolment)) == 1


async def test_a_bad_signature_is_refused_and_changes_nothing(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrol(enrolment, tokens, offering_id)
    before = await staged_events(enrolment.engine, tables.outbox)

    forged = await webhook(
        enrolment, checkout_completed(created.json()["id"], 129500), secret="whsec_attacker"
    )
    unsigned = await enrolment.http.post("/payments/stripe/webhook", content=b"{}")

    assert forged.status_code == 400
    assert forged.json()["type"].endswith("/bad-signature")
    assert unsigned.status_code == 400
    view = await enrolment.http.get(
        f"/enrolments/{created.json()['id']}", headers=tokens("learner", "ada")
    )
    assert view.json()["status"] == "pending_payment"
    assert await staged_events(enrolment.engine, tables.outbox) == before


async def test_webhooks_signed_with_a_previous_secret_verify_during_rotation(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrol(enrolment, tokens, offering_id)
    paid = await webhook(
        enrolment, checkout_completed(created.json()["id"], 129500), secret="whsec_old_secret"
    )
    assert paid.status_code == 200


async def test_a_redelivered_webhook_has_one_effect(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrol(enrolment, tokens, offering_id)
    event = checkout_completed(created.json()["id"], 129500)

    first = await webhook(enrolment, event)
    second = await webhook(enrolment, event)

    assert (first.json()["applied"], second.json()["applied"]) == (True, False)
    assert (
        types(await staged_events(enrolment.engine, tables.outbox)).count("EnrolmentConfirmed") == 1
    )


async def test_concurrent_learners_cannot_oversell_the_last_seat(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=1)
    responses = await asyncio.gather(
        *(enrol(enrolment, tokens, offering_id, learner=f"learner-{n}") for n in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]


async def test_a_learner_sees_only_their_own_enrolments(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrol(enrolment, tokens, offering_id, learner="ada")
    other = await enrolment.http.get(
        f"/enrolments/{created.json()['id']}", headers=tokens("learner", "eve")
    )
    staff = await enrolment.http.get(f"/enrolments/{created.json()['id']}", headers=tokens("staff"))
    assert other.status_code == 404
    assert staff.status_code == 200


async def test_enrolling_in_an_unknown_offering_is_a_404(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    response = await enrol(enrolment, tokens, uuid4())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
