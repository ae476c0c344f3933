"""Catalogue HTTP API: staff propose, approve and publish; the public reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Header, Path
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue import repository, tables, usecases
from catalogue.domain import (
    DEFAULT_PASS_MARK,
    CatalogueError,
    InvalidOffering,
    MicroCredential,
    OfferingPlan,
    PolicyBreach,
    SelfApproval,
    WrongStatus,
)
from credstack.auth import Principal, require
from credstack.contracts.catalogue import Alignment, LearningOutcome
from credstack.idempotency import StoredResponse
from credstack.numbers import Quantity
from credstack.problems import Problem
from credstack.service import Engine, now

router = APIRouter(tags=["micro-credentials"])


class MicroCredentialDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    title: str = Field(min_length=1, max_length=200)
    summary: str = ""
    description: str = Field(min_length=1)
    learning_outcomes: list[LearningOutcome]
    assessment_description: str = ""
    pass_mark: Quantity = Field(default=DEFAULT_PASS_MARK, gt=0, le=100)
    credit_points: Quantity = Field(gt=0)
    notional_hours: Quantity = Field(gt=0)
    cpd_hours: Quantity | None = Field(default=None, ge=0)
    field_of_study: str = ""
    language: str = Field(default="en", min_length=2, max_length=16)
    expiry_months: int | None = Field(default=None, ge=1)
    fee_cents: int = Field(default=0, ge=0, description="Fee in AUD cents, paid up front")
    alignments: list[Alignment] = []


class MicroCredentialView(MicroCredentialDraft):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    version: int
    status: str
    proposed_by: str
    approved_by: str | None
    published_at: datetime | None

    @classmethod
    def of(cls, item: MicroCredential) -> MicroCredentialView:
        return cls(
            id=item.id,
            version=item.version,
            status=item.status.value,
            code=item.code,
            title=item.title,
            summary=item.summary,
            description=item.description,
            learning_outcomes=item.learning_outcomes,
            assessment_description=item.assessment_description,
            pass_mark=item.pass_mark,
            credit_points=item.credit_points,
            notional_hours=item.notional_hours,
            cpd_hours=item.cpd_points,
            field_of_study=item.field_of_study,
            language=item.language,
            expiry_months=item.expiry_months,
            fee_cents=item.fee_cents,
            alignments=item.alignments,
            proposed_by=item.proposed_by,
            approved_by=item.approved_by,
            published_at=item.published_at,
        )


class OfferingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, description="Defaults to the newest version")
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int = Field(ge=1)
    delivery_mode: str = Field(pattern="^(on-campus|external-on-site|synchronous-online)$")
    time_zone: str = "Australia/Sydney"
    fee_cents: int | None = Field(default=None, ge=0)
    lms_course_ref: str | None = None


def _problem(error: CatalogueError) -> Problem:
    if isinstance(error, usecases.NotFound):
        return Problem(404, "not-found", str(error))
    if isinstance(error, usecases.DuplicateCode):
        return Problem(409, "duplicate-code", str(error))
    if isinstance(error, PolicyBreach):
        return Problem(422, "policy-breach", str(error), breaches=error.breaches)
    if isinstance(error, SelfApproval):
        return Problem(403, "self-approval", str(error))
    if isinstance(error, WrongStatus):
        return Problem(409, "wrong-status", str(error))
    if isinstance(error, InvalidOffering):
        return Problem(422, "invalid-offering", str(error))
    return Problem(422, "refused", str(error))


ItemId = Annotated[UUID, Path(description="The micro-credential's id")]


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retries with the same key and body get the first response back",
    ),
]


async def _create_once(
    engine: Any,
    *,
    scope: str,
    key: str | None,
    body: BaseModel,
    create: Callable[[AsyncConnection], Awaitable[Any]],
) -> JSONResponse:
    at = now()
    try:
        async with engine.begin() as conn:

            async def created() -> StoredResponse:
                return StoredResponse(201, jsonable_encoder(await create(conn)))

            response = await tables.idempotency.once(
                conn,
                scope=scope,
                key=key,
                body=body.model_dump(mode="json"),
                create=created,
                now=at,
            )
    except CatalogueError as error:
        raise _problem(error) from error
    return JSONResponse(response.body, status_code=response.status)


@router.post("/micro-credentials", status_code=201, response_model=MicroCredentialView)
async def propose(
    draft: MicroCredentialDraft,
    engine: Engine,
    idempotency_key: IdempotencyKey = None,
    staff: Principal = require("catalogue:write"),
) -> JSONResponse:
    async def create(conn: AsyncConnection) -> MicroCredentialView:
        item = MicroCredential(id=uuid4(), version=1, proposed_by=staff.subject, **dict(draft))
        await usecases.propose(conn, item, now=now())
        return MicroCredentialView.of(item)

    return await _create_once(
        engine, scope=f"propose:{staff.subject}", key=idempotency_key, body=draft, create=create
    )


async def _transition(engine: Any, action: Any, *args: Any, **kwargs: Any) -> MicroCredentialView:
    try:
        async with engine.begin() as conn:
            item = await action(conn, *args, now=now(), **kwargs)
    except CatalogueError as error:
        raise _problem(error) from error
    return MicroCredentialView.of(item)


@router.post("/micro-credentials/{item_id}/submit", response_model=MicroCredentialView)
async def submit(
    item_id: ItemId, engine: Engine, _: Principal = require("catalogue:write")
) -> MicroCredentialView:
    return await _transition(engine, usecases.submit, item_id)


@router.post("/micro-credentials/{item_id}/approve", response_model=MicroCredentialView)
async def approve(
    item_id: ItemId, engine: Engine, approver: Principal = require("catalogue:approve")
) -> MicroCredentialView:
    return await _transition(engine, usecases.approve, item_id, approver=approver.subject)


@router.post("/micro-credentials/{item_id}/publish", response_model=MicroCredentialView)
async def publish(
    item_id: ItemId, engine: Engine, _: Principal = require("catalogue:approve")
) -> MicroCredentialView:
    return await _transition(engine, usecases.publish, item_id)


@router.post("/micro-credentials/{item_id}/offerings", status_code=201)
async def schedule(
    item_id: ItemId,
    request: Annotated[OfferingRequest, Body()],
    engine: Engine,
    idempotency_key: IdempotencyKey = None,
    staff: Principal = require("catalogue:write"),
) -> JSONResponse:
    async def create(conn: AsyncConnection) -> dict[str, Any]:
        plan = OfferingPlan(**request.model_dump(exclude={"version"}))
        offering_id = await usecases.schedule(conn, item_id, request.version, plan, now=now())
        return {"id": offering_id, "micro_credential_id": item_id}

    return await _create_once(
        engine,
        scope=f"schedule:{item_id}:{staff.subject}",
        key=idempotency_key,
        body=request,
        create=create,
    )


@router.get("/micro-credentials/{code}", response_model=MicroCredentialView)
async def by_code(code: str, engine: Engine) -> MicroCredentialView:
    """The newest published version of the micro-credential with this code (public)."""
    async with engine.connect() as conn:
        item = await repository.published_by_code(conn, code)
    if item is None:
        raise Problem(404, "not-found", f"No published micro-credential with code {code}.")
    return MicroCredentialView.of(item)
