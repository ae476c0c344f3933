"""The learner-facing API: profile, integrity declaration, enrolling, paying, the waitlist.

Learners act with learner tokens; their email is the one the identity provider verified
(`email` with `email_verified: true` in the token). Staff (scope `enrolment:manage`) may
read any enrolment; their own operations are in `staff_api`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from credstack.auth import Principal, learner_id_for, require
from credstack.idempotency import StoredResponse
from credstack.problems import Problem
from credstack.service import Engine, now
from enrolment import repository, usecases
from enrolment.eligibility import EnrolmentError, declaration_satisfied
from enrolment.payment_flows import PaymentFlows
from enrolment.payments import ProviderError
from enrolment.tables import idempotency
from enrolment.usecases import Policy
from enrolment.views import EnrolmentView, Page, problem

router = APIRouter(tags=["enrolments"])

STAFF_SCOPE = "enrolment:manage"


def _flows(request: Request) -> PaymentFlows:
    flows: PaymentFlows = request.app.state.payment_flows
    return flows


def _policy(request: Request) -> Policy:
    policy: Policy = request.app.state.policy
    return policy


Flows = Annotated[PaymentFlows, Depends(_flows)]
PolicyDep = Annotated[Policy, Depends(_policy)]
Learner = Annotated[Principal, require("learner")]


def verified_email(learner: Principal) -> str:
    email = learner.claims.get("email")
    if not email or learner.claims.get("email_verified") is not True:
        raise Problem(
            403,
            "email-not-verified",
            "Your sign-in does not carry a verified email address; verify your email with "
            "the identity provider and sign in again.",
        )
    return str(email)


# The learner's profile and the academic-integrity declaration


class ProfileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_on_credential: str = Field(
        min_length=1, max_length=200, description="Your name as it should appear on credentials"
    )
    university_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{1,32}$",
        description="Your university ID, if you have one (most learners do not)",
    )


class DeclarationStatus(BaseModel):
    current_version: int | None
    accepted_version: int | None
    accepted_at: datetime | None
    satisfied: bool


class LearnerView(BaseModel):
    id: UUID
    email: str
    name_on_credential: str
    university_id: str | None
    integrity_declaration: DeclarationStatus
    credentials_held: list[UUID]
    placements: dict[str, str]


async def _learner_view(conn: Any, learner_id: UUID) -> LearnerView:
    row = await repository.learner_row(conn, learner_id)
    if row is None:
        raise Problem(404, "profile-required", "You have no learner profile yet: PUT /learners/me.")
    record = await repository.learner_record(conn, learner_id)
    current = await repository.current_declaration_version(conn)
    return LearnerView(
        id=row.id,
        email=row.email,
        name_on_credential=row.name_on_credential,
        university_id=row.university_id,
        integrity_declaration=DeclarationStatus(
            current_version=current,
            accepted_version=row.declaration_version,
            accepted_at=row.declaration_accepted_at,
            satisfied=declaration_satisfied(record, current),
        ),
        credentials_held=sorted(record.held),
        placements=dict(record.placements),
    )


@router.put("/learners/me", response_model=LearnerView, tags=["learners"])
async def save_profile(body: ProfileRequest, engine: Engine, learner: Learner) -> LearnerView:
    """Create or update your profile; the email comes from your verified sign-in."""
    learner_id = learner_id_for(learner.subject)
    async with engine.begin() as conn:
        await usecases.save_profile(
            conn,
            learner_id=learner_id,
            subject=learner.subject,
            email=verified_email(learner),
            name_on_credential=body.name_on_credential,
            university_id=body.university_id,
            now=now(),
        )
        return await _learner_view(conn, learner_id)


@router.get("/learners/me", response_model=LearnerView, tags=["learners"])
async def my_profile(engine: Engine, learner: Learner) -> LearnerView:
    async with engine.connect() as conn:
        return await _learner_view(conn, learner_id_for(learner.subject))


class DeclarationView(BaseModel):
    version: int
    text: str
    published_at: datetime


@router.get("/academic-integrity/declaration", response_model=DeclarationView, tags=["learners"])
async def current_declaration(engine: Engine) -> DeclarationView:
    """The current academic-integrity declaration every learner accepts before their first
    micro-credential starts (public)."""
    async with engine.connect() as conn:
        row = await repository.current_declaration(conn)
    if row is None:
        raise Problem(404, "not-found", "No academic-integrity declaration is published yet.")
    return DeclarationView(version=row.version, text=row.text, published_at=row.published_at)


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version of the declaration you read and accept")


class AcceptanceView(BaseModel):
    accepted_version: int
    confirmed_enrolments: list[UUID]


@router.post("/learners/me/integrity-declaration", response_model=AcceptanceView, tags=["learners"])
async def accept_declaration(body: Acceptance, engine: Engine, learner: Learner) -> AcceptanceView:
    """Accept the current declaration; enrolments that waited for it are confirmed."""
    try:
        async with engine.begin() as conn:
            confirmed = await usecases.accept_declaration(
                conn, learner_id=learner_id_for(learner.subject), version=body.version, now=now()
            )
    except EnrolmentError as error:
        raise problem(error) from error
    return AcceptanceView(accepted_version=body.version, confirmed_enrolments=confirmed)


# Enrolments


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


@router.post("/enrolments", status_code=201, response_model=EnrolmentView)
async def enrol(
    body: EnrolmentRequest,
    engine: Engine,
    policy: PolicyDep,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            description="Retries with the same key and body get the first response back",
        ),
    ],
    learner: Learner,
) -> Any:
    """Enrol in an offering: a held seat to pay for, the waitlist when it is full, or staff
    review when prerequisites are met only through declared experience."""
    at = now()
    learner_id = learner_id_for(learner.subject)
    email = verified_email(learner)

    async def create() -> StoredResponse:
        created = await usecases.enrol(
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
    except EnrolmentError as error:
        raise problem(error) from error
    return JSONResponse(response.body, status_code=response.status)


async def view_of(engine: Any, enrolment_id: UUID, caller: Principal) -> EnrolmentView:
    async with engine.connect() as conn:
        found = await repository.get(conn, enrolment_id)
        staff = STAFF_SCOPE in caller.scopes
        if found is None or not (staff or found.learner_id == learner_id_for(caller.subject)):
            raise Problem(404, "not-found", f"No enrolment {enrolment_id}.")
        return EnrolmentView.of(
            found, waitlist_position=await repository.waitlist_position(conn, found)
        )


@router.get("/enrolments", response_model=Page[EnrolmentView])
async def my_enrolments(
    engine: Engine,
    learner: Learner,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[EnrolmentView]:
    """Your enrolments, newest first, with their payment status."""
    async with engine.connect() as conn:
        items, total = await repository.of_learner(
            conn, learner_id_for(learner.subject), limit=limit, offset=offset
        )
        views = [
            EnrolmentView.of(i, waitlist_position=await repository.waitlist_position(conn, i))
            for i in items
        ]
    return Page(items=views, total=total, limit=limit, offset=offset)


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentView)
async def get_enrolment(
    enrolment_id: UUID, engine: Engine, caller: Principal = require()
) -> EnrolmentView:
    return await view_of(engine, enrolment_id, caller)


@router.post("/enrolments/{enrolment_id}/checkout", response_model=EnrolmentView)
async def checkout(
    enrolment_id: UUID, engine: Engine, flows: Flows, learner: Learner
) -> EnrolmentView:
    """Start paying: the answer's `payment.checkout_url` is the provider's checkout page.
    Calling again returns the same checkout."""
    try:
        await flows.start_checkout(
            enrolment_id, learner_id=learner_id_for(learner.subject), now=now()
        )
    except (EnrolmentError, ProviderError) as error:
        raise problem(error) from error
    return await view_of(engine, enrolment_id, learner)


@router.post("/enrolments/{enrolment_id}/accept-seat", response_model=EnrolmentView)
async def accept_seat(
    enrolment_id: UUID, engine: Engine, policy: PolicyDep, learner: Learner
) -> EnrolmentView:
    """Take the seat offered from the waitlist (then pay, if a fee is due)."""
    await _own(engine, enrolment_id, learner)
    try:
        async with engine.begin() as conn:
            await usecases.accept_seat(conn, enrolment_id, policy=policy, now=now())
    except EnrolmentError as error:
        raise problem(error) from error
    return await view_of(engine, enrolment_id, learner)


@router.post("/enrolments/{enrolment_id}/cancel", response_model=EnrolmentView)
async def cancel(
    enrolment_id: UUID, engine: Engine, flows: Flows, learner: Learner
) -> EnrolmentView:
    """Leave the waitlist, decline a seat offer, or abandon an unpaid enrolment."""
    try:
        await flows.cancel_by_learner(
            enrolment_id, learner_id=learner_id_for(learner.subject), now=now()
        )
    except (EnrolmentError, ProviderError) as error:
        raise problem(error) from error
    return await view_of(engine, enrolment_id, learner)


async def _own(engine: Any, enrolment_id: UUID, learner: Principal) -> None:
    async with engine.connect() as conn:
        found = await repository.get(conn, enrolment_id)
    if found is None or found.learner_id != learner_id_for(learner.subject):
        raise Problem(404, "not-found", f"No enrolment {enrolment_id}.")


class Availability(BaseModel):
    offering_id: UUID
    code: str
    title: str
    status: str
    enrolment_open: bool
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    seats_free: int
    waitlist_length: int
    fee_cents: int
    currency: str


@router.get("/offerings/{offering_id}/availability", response_model=Availability)
async def availability(offering_id: UUID, engine: Engine) -> Availability:
    """Whether an offering takes enrolments now and how many seats are free (public)."""
    async with engine.connect() as conn:
        target = await repository.get_offering(conn, offering_id)
        if target is None:
            raise Problem(404, "not-found", f"No offering {offering_id}.")
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
