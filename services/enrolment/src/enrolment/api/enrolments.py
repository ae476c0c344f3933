"""Enrolling, paying, the waitlist and cancelling, as the learner does them; an offering's
availability (public). Staff (scope `enrolment:manage`) may read any enrolment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from credstack import access
from credstack.auth import Principal, learner_id_for, require
from credstack.clock import now
from credstack.idempotency import StoredResponse
from credstack.pagination import Cursor, Limit, Page, page_of
from credstack.service import Engine
from enrolment import repository
from enrolment.api.common import (
    Flows,
    Learner,
    PolicyDep,
    after,
    cursor_of,
    verified_email,
    view_of,
)
from enrolment.api.views import EnrolmentView
from enrolment.domain import OfferingStatus
from enrolment.tables import idempotency
from enrolment.usecases import NotFound, enrolments

router = APIRouter(tags=["enrolments"])


class EnrolmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    offering_id: UUID
    language_experience: bool | None = Field(
        default=None,
        description="For a language micro-credential: whether you have any previous "
        "experience of the language (with experience you need a placement first)",
    )
    experience_statement: str | None = Field(
        default=None,
        min_length=1,
        max_length=4000,
        description="Your prior experience, for staff to approve in place of prerequisite "
        "micro-credentials you do not hold",
    )


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        description="Retries with the same key and body get the first response back",
    ),
]


@router.post("/enrolments", status_code=201, response_model=EnrolmentView)
async def enrol(
    body: EnrolmentRequest,
    engine: Engine,
    policy: PolicyDep,
    idempotency_key: IdempotencyKey,
    learner: Learner,
) -> Any:
    """Enrol in an offering: a held seat to pay for, the waitlist when it is full, or staff
    review when prerequisites are met only through declared experience."""
    at = now()
    learner_id = learner_id_for(learner.subject)
    email = verified_email(learner)
    async with engine.begin() as conn:

        async def create() -> StoredResponse:
            created = await enrolments.enrol(
                conn,
                learner_id=learner_id,
                learner_subject=learner.subject,
                email=email,
                offering_id=body.offering_id,
                language_experience=body.language_experience,
                experience_statement=body.experience_statement,
                policy=policy,
                now=at,
            )
            position = await repository.waitlist_position(conn, created)
            view = EnrolmentView.of(created, waitlist_position=position)
            return StoredResponse(201, view.model_dump(mode="json"))

        response = await idempotency.once(
            conn,
            scope=f"enrol:{learner.subject}",
            key=idempotency_key,
            body=body.model_dump(mode="json"),
            create=create,
            now=at,
        )
    return JSONResponse(response.body, status_code=response.status)


@router.get("/enrolments", response_model=Page[EnrolmentView])
async def my_enrolments(
    engine: Engine, learner: Learner, limit: Limit = 50, cursor: Cursor = None
) -> Page[EnrolmentView]:
    """Your enrolments, newest first, with their payment status."""
    async with engine.connect() as conn:
        items = await repository.of_learner(
            conn, learner_id_for(learner.subject), limit=limit + 1, after=after(cursor)
        )
        page = page_of(items, limit, cursor_of)
        views = [
            EnrolmentView.of(i, waitlist_position=await repository.waitlist_position(conn, i))
            for i in page.items
        ]
    return Page(items=views, next_cursor=page.next_cursor)


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentView)
@access.scheme("(in the handler) the enrolment's learner, or `enrolment:manage`")
async def get_enrolment(
    enrolment_id: UUID, engine: Engine, caller: Principal = require()
) -> EnrolmentView:
    return await view_of(engine, enrolment_id, caller)


@router.post("/enrolments/{enrolment_id}/checkout", response_model=EnrolmentView)
async def checkout(enrolment_id: UUID, flows: Flows, learner: Learner) -> EnrolmentView:
    """Start paying: the answer's `payment.checkout_url` is the provider's checkout page.
    Calling again returns the same checkout."""
    item = await flows.start_checkout(
        enrolment_id, learner_id=learner_id_for(learner.subject), now=now()
    )
    # The learner's enrolment as it stands after the checkout started: pending payment, so
    # on no waitlist (not read again).
    return EnrolmentView.of(item, waitlist_position=None)


@router.post("/enrolments/{enrolment_id}/accept-seat", response_model=EnrolmentView)
async def accept_seat(
    enrolment_id: UUID, engine: Engine, policy: PolicyDep, learner: Learner
) -> EnrolmentView:
    """Take the seat offered from the waitlist (then pay, if a fee is due)."""
    async with engine.begin() as conn:
        await enrolments.accept_seat(
            conn,
            enrolment_id,
            learner_id=learner_id_for(learner.subject),
            policy=policy,
            now=now(),
        )
    return await view_of(engine, enrolment_id, learner)


@router.post("/enrolments/{enrolment_id}/cancel", response_model=EnrolmentView)
async def cancel(
    enrolment_id: UUID, engine: Engine, flows: Flows, learner: Learner
) -> EnrolmentView:
    """Leave the waitlist, decline a seat offer, or abandon an unpaid enrolment."""
    await flows.cancel_by_learner(
        enrolment_id, learner_id=learner_id_for(learner.subject), now=now()
    )
    return await view_of(engine, enrolment_id, learner)


class Availability(BaseModel):
    offering_id: UUID
    code: str
    title: str
    status: OfferingStatus
    enrolment_open: bool
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    seats_free: int
    waitlist_length: int
    fee_cents: int
    currency: str


@router.get("/offerings/{offering_id}/availability", response_model=Availability)
@access.public
async def availability(offering_id: UUID, engine: Engine) -> Availability:
    """Whether an offering takes enrolments now and how many seats are free (public)."""
    async with engine.connect() as conn:
        target = await repository.get_offering(conn, offering_id)
        if target is None:
            raise NotFound(f"No offering {offering_id}.")
        free = await repository.seats_free(conn, target)
        waiting = await repository.waitlist_length(conn, offering_id)
    return Availability(
        offering_id=target.id,
        code=target.code,
        title=target.title,
        status=target.status,
        enrolment_open=target.is_open(now()),
        enrolment_opens_at=target.enrolment_opens_at,
        enrolment_closes_at=target.enrolment_closes_at,
        capacity=target.capacity,
        seats_free=free,
        waitlist_length=waiting,
        fee_cents=target.fee_cents,
        currency=target.currency,
    )
