"""Enrolment HTTP API: learners enrol; the payment provider's webhooks confirm."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import stripe
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from credstack.auth import Principal, learner_id_for, require
from credstack.idempotency import StoredResponse
from credstack.problems import Problem
from credstack.service import Engine, now
from enrolment import repository, usecases
from enrolment.domain import Enrolment, EnrolmentError
from enrolment.settings import Settings
from enrolment.tables import idempotency

router = APIRouter(tags=["enrolments"])


class EnrolmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offering_id: UUID
    learner_name: str = Field(
        min_length=1, max_length=200, description="The name as it should appear on the credential"
    )
    email: EmailStr


class EnrolmentView(BaseModel):
    id: UUID
    learner_id: UUID
    offering_id: UUID
    status: str
    fee_cents: int
    payment_due: bool

    @classmethod
    def of(cls, item: Enrolment) -> EnrolmentView:
        return cls(
            id=item.id,
            learner_id=item.learner_id,
            offering_id=item.offering.id,
            status=item.status.value,
            fee_cents=item.fee_cents,
            payment_due=item.payment_due and item.status.value == "pending_payment",
        )


@router.post("/enrolments", status_code=201, response_model=EnrolmentView)
async def enrol(
    body: EnrolmentRequest,
    engine: Engine,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key")],
    learner: Principal = require("learner"),
) -> Any:
    at = now()

    async def create() -> StoredResponse:
        created = await usecases.enrol(
            conn,
            learner_id=learner_id_for(learner.subject),
            learner_subject=learner.subject,
            learner_name=body.learner_name,
            email=str(body.email),
            offering_id=body.offering_id,
            now=at,
        )
        return StoredResponse(201, EnrolmentView.of(created).model_dump(mode="json"))

    try:
        async with engine.begin() as conn:
            response = await idempotency.once(
                conn,
                scope=f"enrol:{learner.subject}",
                key=idempotency_key,
                body=body.model_dump(mode="json"),
                create=create,
                now=at,
            )
    except usecases.NotFound as error:
        raise Problem(404, "not-found", str(error)) from error
    except EnrolmentError as error:
        raise Problem(409, "enrolment-refused", str(error)) from error
    return JSONResponse(response.body, status_code=response.status)


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentView)
async def get_enrolment(
    enrolment_id: UUID, engine: Engine, caller: Principal = require()
) -> EnrolmentView:
    async with engine.connect() as conn:
        found = await repository.get(conn, enrolment_id)
    staff = "enrolment:manage" in caller.scopes
    if found is None or not (staff or found.learner_id == learner_id_for(caller.subject)):
        raise Problem(404, "not-found", f"No enrolment {enrolment_id}.")
    return EnrolmentView.of(found)


def _verified_event(payload: bytes, signature: str | None, settings: Settings) -> dict[str, Any]:
    """The provider's event (as plain JSON) if any current secret signed it.

    Several secrets are tried during a rotation; the library checks the timestamp tolerance.
    """
    if not signature:
        raise Problem(400, "missing-signature", "The Stripe-Signature header is required.")
    for secret in settings.stripe_webhook_secrets:
        try:
            stripe.Webhook.construct_event(
                payload,
                signature,
                secret.get_secret_value(),
                tolerance=settings.stripe_webhook_tolerance_seconds,
            )
            event: dict[str, Any] = json.loads(payload)
            return event
        except stripe.SignatureVerificationError:
            continue
        except ValueError as error:
            raise Problem(
                400, "malformed-webhook", f"The body is not a Stripe event: {error}"
            ) from error
    raise Problem(400, "bad-signature", "No current webhook secret signed this payload.")


def _enrolment_id(session: Any) -> UUID:
    reference = session.get("client_reference_id") or (session.get("metadata") or {}).get(
        "enrolment_id"
    )
    try:
        return UUID(str(reference))
    except ValueError as error:
        raise Problem(
            422, "unknown-enrolment", f"The session names no enrolment of ours: {reference!r}."
        ) from error


@router.post("/payments/stripe/webhook", tags=["payments"], summary="Stripe webhook endpoint")
async def stripe_webhook(
    request: Request,
    engine: Engine,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    event = _verified_event(await request.body(), stripe_signature, settings)
    if event["type"] != "checkout.session.completed":
        return {"received": True, "applied": False}
    session = event["data"]["object"]
    received_at: datetime = now()
    try:
        async with engine.begin() as conn:
            applied = await usecases.record_payment(
                conn,
                provider_event_id=event["id"],
                provider_event_type=event["type"],
                enrolment_id=_enrolment_id(session),
                paid=session.get("payment_status") == "paid",
                now=received_at,
            )
    except usecases.NotFound as error:
        raise Problem(404, "not-found", str(error)) from error
    return {"received": True, "applied": applied}
