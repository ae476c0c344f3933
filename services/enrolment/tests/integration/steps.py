"""The steps the enrolment service's tests are made of, over HTTP and the consumer path."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlalchemy import select

from credstack.auth import learner_id_for
from credstack.contracts.catalogue import OfferingScheduled
from credstack.testing import ServiceUnderTest, Tokens, deliver
from enrolment import tables
from enrolment.local_provider import LocalProvider
from enrolment.stripe_format import stripe_signature

WEBHOOK_SECRET = "whsec_test_secret"
DECLARATION = "I will complete my assessments honestly and by my own work."


async def offering(
    enrolment: ServiceUnderTest,
    *,
    fee_cents: int = 129500,
    capacity: int = 30,
    micro_credential_id: UUID | None = None,
    starts_on: date | None = None,
    enrolment_closes_at: datetime | None = None,
    **fields: Any,
) -> UUID:
    """An offering open for enrolment now, scheduled through the catalogue's event."""
    now = datetime.now(UTC)
    event = OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=micro_credential_id or uuid4(),
        micro_credential_version=1,
        code="MC-DATA-101",
        title="Data Cleaning",
        starts_on=starts_on or (now + timedelta(days=14)).date(),
        ends_on=(now + timedelta(days=60)).date(),
        enrolment_opens_at=now - timedelta(days=1),
        enrolment_closes_at=enrolment_closes_at or now + timedelta(days=10),
        capacity=capacity,
        delivery_mode="on-campus",
        fee_cents=fee_cents,
        **fields,
    )
    assert await deliver(enrolment.app, event) == "applied"
    return event.offering_id


def learner(tokens: Tokens, name: str = "ada", **claims: Any) -> dict[str, str]:
    """A learner's token whose email the identity provider verified."""
    return tokens(
        "learner", name, **{"email": f"{name}@example.org", "email_verified": True, **claims}
    )


async def register(
    enrolment: ServiceUnderTest, tokens: Tokens, name: str = "ada", *, declare: bool = True
) -> UUID:
    """A learner's profile and, unless told otherwise, the accepted declaration."""
    headers = learner(tokens, name)
    saved = await enrolment.http.put(
        "/learners/me", json={"name_on_credential": name.title()}, headers=headers
    )
    assert saved.status_code == 200, saved.text
    if declare:
        await accept_declaration(enrolment, tokens, name)
    return learner_id_for(name)


async def accept_declaration(
    enrolment: ServiceUnderTest, tokens: Tokens, name: str = "ada"
) -> httpx.Response:
    current = (await enrolment.http.get("/academic-integrity/declaration")).json()
    return await enrolment.http.post(
        "/learners/me/integrity-declaration",
        json={"version": current["version"]},
        headers=learner(tokens, name),
    )


async def enrol(
    enrolment: ServiceUnderTest,
    tokens: Tokens,
    offering_id: UUID,
    *,
    name: str = "ada",
    key: str | None = None,
    **body: Any,
) -> httpx.Response:
    return await enrolment.http.post(
        "/enrolments",
        json={"offering_id": str(offering_id), **body},
        headers={**learner(tokens, name), "Idempotency-Key": key or uuid4().hex},
    )


async def enrolled(
    enrolment: ServiceUnderTest, tokens: Tokens, offering_id: UUID, name: str = "ada"
) -> dict[str, Any]:
    """A registered learner's new enrolment."""
    await register(enrolment, tokens, name)
    response = await enrol(enrolment, tokens, offering_id, name=name)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def view(
    enrolment: ServiceUnderTest, tokens: Tokens, enrolment_id: str | UUID
) -> dict[str, Any]:
    response = await enrolment.http.get(f"/enrolments/{enrolment_id}", headers=tokens("staff"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def status(enrolment: ServiceUnderTest, tokens: Tokens, enrolment_id: str | UUID) -> str:
    return str((await view(enrolment, tokens, enrolment_id))["status"])


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def session_event(
    event_type: str,
    enrolment_id: str,
    *,
    payment_status: str = "paid",
    status: str = "complete",
    session_id: str | None = None,
    amount: int = 129500,
    payment_intent: str | None = "pi_test_1",
) -> dict[str, Any]:
    """A checkout.session.* event in Stripe's format about one of our enrolments."""
    return stripe_event(
        event_type,
        {
            "id": session_id or f"cs_test_{uuid4().hex}",
            "object": "checkout.session",
            "amount_total": amount,
            "currency": "aud",
            "client_reference_id": enrolment_id,
            "metadata": {"enrolment_id": enrolment_id},
            "mode": "payment",
            "payment_intent": payment_intent,
            "payment_status": payment_status,
            "status": status,
        },
    )


async def webhook(
    enrolment: ServiceUnderTest,
    event: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    body = json.dumps(event).encode()
    return await enrolment.http.post(
        "/payments/stripe/webhook",
        content=body,
        headers={
            "Stripe-Signature": stripe_signature(
                body, [secret], int(time.time()) if timestamp is None else timestamp
            ),
            "Content-Type": "application/json",
        },
    )


def local_provider(enrolment: ServiceUnderTest) -> LocalProvider:
    provider = enrolment.app.state.payment_flows.provider
    assert isinstance(provider, LocalProvider)
    return provider


async def deliver_webhooks(enrolment: ServiceUnderTest) -> int:
    """What the local provider's loop does in the dev stack: post the webhooks it owes."""
    return await local_provider(enrolment).deliver_pending(
        enrolment.http,
        url="/payments/stripe/webhook",
        secrets=[WEBHOOK_SECRET],
        now=datetime.now(UTC),
    )


async def checkout(
    enrolment: ServiceUnderTest, tokens: Tokens, enrolment_id: str, name: str = "ada"
) -> str:
    """Start the checkout; the local provider's page for it."""
    response = await enrolment.http.post(
        f"/enrolments/{enrolment_id}/checkout", headers=learner(tokens, name)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["payment"]["checkout_url"])


async def session_of(
    enrolment: ServiceUnderTest, tokens: Tokens, enrolment_id: str, name: str = "ada"
) -> str:
    """Start the checkout; the id of the session the service created for it."""
    return (await checkout(enrolment, tokens, enrolment_id, name)).rsplit("/", 1)[1]


async def pay(enrolment: ServiceUnderTest, page: str, action: str = "pay") -> httpx.Response:
    return await enrolment.http.post(f"{page}/{action}", headers={"Accept": "application/json"})


async def staged_on(enrolment: ServiceUnderTest, topic: str) -> list[dict[str, Any]]:
    """The CloudEvents staged for ``topic`` (contact details go to ``enrolment.contacts``)."""
    table = tables.outbox.table
    async with enrolment.engine.connect() as conn:
        rows = await conn.execute(
            select(table.c.payload).where(table.c.topic == topic).order_by(table.c.id)
        )
        return [row.payload for row in rows]


async def events_of(
    enrolment: ServiceUnderTest, topic: str = "enrolment.events"
) -> list[dict[str, Any]]:
    """The enrolments' events (a learner's IntegrityDeclarationAccepted: `learner_events_of`;
    contact details: ``topic="enrolment.contacts"``)."""
    staged = await staged_on(enrolment, topic)
    return [e for e in staged if "Integrity" not in e["type"]]


async def learner_events_of(
    enrolment: ServiceUnderTest, every: bool = False
) -> list[dict[str, Any]]:
    staged = await staged_on(enrolment, "enrolment.events")
    return staged if every else [e for e in staged if "IntegrityDeclaration" in e["type"]]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].split(".")[2] for e in events]
