"""The staff API (scope `enrolment:manage`): rosters with payment status (JSON and CSV),
eligibility review, withdrawal, transfer, refunds, and the integrity declaration's text."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from credstack.auth import Principal, require
from credstack.problems import Problem
from credstack.service import Engine, now
from enrolment import repository, usecases
from enrolment.api import STAFF_SCOPE, DeclarationView, Flows, PolicyDep, view_of
from enrolment.domain import Status
from enrolment.eligibility import EnrolmentError
from enrolment.payments import ProviderError
from enrolment.repository import RosterLine
from enrolment.views import EnrolmentView, problem

router = APIRouter(tags=["staff"])

Staff = Annotated[Principal, require(STAFF_SCOPE)]


class RosterEntry(BaseModel):
    enrolment_id: UUID
    learner_id: UUID
    learner_name: str
    email: str
    university_id: str | None
    status: str
    payment_status: str
    fee_cents: int
    amount_paid_cents: int
    amount_refunded_cents: int
    currency: str
    requested_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    language_experience: bool | None
    experience_statement: str | None

    @classmethod
    def of(cls, line: RosterLine) -> RosterEntry:
        item = line.enrolment
        return cls(
            enrolment_id=item.id,
            learner_id=item.learner_id,
            learner_name=item.learner_name,
            email=item.email,
            university_id=line.university_id,
            status=item.status.value,
            payment_status=item.payment_status.value,
            fee_cents=item.fee_cents,
            amount_paid_cents=item.amount_paid_cents,
            amount_refunded_cents=item.amount_refunded_cents,
            currency=item.currency,
            requested_at=item.requested_at,
            confirmed_at=item.confirmed_at,
            ended_at=item.ended_at,
            end_reason=item.end_reason,
            language_experience=item.language_experience,
            experience_statement=item.experience_statement,
        )


class Roster(BaseModel):
    offering_id: UUID
    code: str
    title: str
    capacity: int
    seats_free: int
    waitlist_length: int
    items: list[RosterEntry]
    total: int
    limit: int
    offset: int


StatusFilter = Annotated[Status | None, Query(description="Only enrolments in this status")]


@router.get("/offerings/{offering_id}/roster", response_model=Roster)
async def roster(
    offering_id: UUID,
    engine: Engine,
    _: Staff,
    status: StatusFilter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Roster:
    """Everyone enrolled, waitlisted or waiting for approval, in the order they enrolled."""
    async with engine.connect() as conn:
        target = await repository.get_offering(conn, offering_id)
        if target is None:
            raise Problem(404, "not-found", f"No offering {offering_id}.")
        lines, total = await repository.roster(
            conn, offering_id, status=status, limit=limit, offset=offset
        )
        return Roster(
            offering_id=target.id,
            code=target.code,
            title=target.title,
            capacity=target.capacity,
            seats_free=await repository.seats_free(conn, target),
            waitlist_length=await repository.waitlist_length(conn, offering_id),
            items=[RosterEntry.of(line) for line in lines],
            total=total,
            limit=limit,
            offset=offset,
        )


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


@router.get(
    "/offerings/{offering_id}/roster.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def roster_csv(
    offering_id: UUID, engine: Engine, _: Staff, status: StatusFilter = None
) -> Response:
    """The whole roster as CSV, one enrolment per line, with payment status."""
    async with engine.connect() as conn:
        target = await repository.get_offering(conn, offering_id)
        if target is None:
            raise Problem(404, "not-found", f"No offering {offering_id}.")
        lines, _total = await repository.roster(conn, offering_id, status=status, limit=None)
    columns = list(RosterEntry.model_fields)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for line in lines:
        entry = RosterEntry.of(line)
        writer.writerow([_cell(getattr(entry, column)) for column in columns])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="roster-{target.code}-{target.id}.csv"'
        },
    )


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500)


@router.post("/enrolments/{enrolment_id}/withdraw", response_model=EnrolmentView)
async def withdraw(
    enrolment_id: UUID, body: Withdrawal, engine: Engine, policy: PolicyDep, staff: Staff
) -> EnrolmentView:
    """Withdraw a learner (a confirmed enrolment becomes withdrawn, any other is cancelled);
    the seat goes to the waitlist. Refunding is a separate decision."""
    try:
        async with engine.begin() as conn:
            await usecases.withdraw(
                conn, enrolment_id, reason=body.reason, policy=policy, now=now()
            )
    except EnrolmentError as error:
        raise problem(error) from error
    return await view_of(engine, enrolment_id, staff)


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_offering_id: UUID


@router.post("/enrolments/{enrolment_id}/transfer", response_model=EnrolmentView)
async def transfer(
    enrolment_id: UUID, body: Transfer, engine: Engine, policy: PolicyDep, staff: Staff
) -> EnrolmentView:
    """Move a paid (or free) enrolment to another offering of the same micro-credential and
    fee that has a free seat; its old seat goes to that offering's waitlist."""
    try:
        async with engine.begin() as conn:
            await usecases.transfer(
                conn, enrolment_id, to_offering_id=body.to_offering_id, policy=policy, now=now()
            )
    except EnrolmentError as error:
        raise problem(error) from error
    return await view_of(engine, enrolment_id, staff)


@router.post("/enrolments/{enrolment_id}/refund", status_code=202, response_model=EnrolmentView)
async def refund(enrolment_id: UUID, engine: Engine, flows: Flows, staff: Staff) -> JSONResponse:
    """Refund the fee in full. Accepted (202): the provider's refund event then cancels an
    active enrolment and releases its seat. If the provider cannot be reached now, the
    refund stays due and the sweeper sends it."""
    try:
        async with engine.begin() as conn:
            await usecases.request_refund(conn, enrolment_id, now=now())
    except EnrolmentError as error:
        raise problem(error) from error
    with contextlib.suppress(ProviderError):  # still due: the sweeper retries
        await flows.send_refund(enrolment_id, now=now())
    view = await view_of(engine, enrolment_id, staff)
    return JSONResponse(view.model_dump(mode="json"), status_code=202)


class EligibilityDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    approved: bool
    note: str = Field(default="", max_length=2000)


@router.post("/enrolments/{enrolment_id}/eligibility", response_model=EnrolmentView)
async def decide_eligibility(
    enrolment_id: UUID,
    body: EligibilityDecision,
    engine: Engine,
    policy: PolicyDep,
    staff: Staff,
) -> EnrolmentView:
    """Approve (or decline) declared experience in place of missing prerequisites."""
    try:
        async with engine.begin() as conn:
            await usecases.decide_eligibility(
                conn,
                enrolment_id,
                approved=body.approved,
                note=body.note,
                decided_by=staff.subject,
                policy=policy,
                now=now(),
            )
    except EnrolmentError as error:
        raise problem(error) from error
    return await view_of(engine, enrolment_id, staff)


class DeclarationText(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=20, max_length=20000)


@router.post(
    "/academic-integrity/declarations",
    status_code=201,
    response_model=DeclarationView,
    tags=["learners"],
)
async def publish_declaration(
    body: DeclarationText, engine: Engine, staff: Staff
) -> DeclarationView:
    """Publish a new version of the declaration. Learners not yet inducted must accept it;
    those already confirmed once need not accept it again."""
    at = now()
    async with engine.begin() as conn:
        version = await usecases.publish_declaration(
            conn, text=body.text, published_by=staff.subject, now=at
        )
    return DeclarationView(version=version, text=body.text, published_at=at)
