"""Staff's decisions on an enrolment (scope `enrolment:manage`): eligibility review,
withdrawal, transfer and refunds."""

from __future__ import annotations

import contextlib
from uuid import UUID

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from credstack.audit import StaffAction
from credstack.clock import now
from credstack.service import Engine
from enrolment import tables
from enrolment.api.common import Flows, PolicyDep, Staff, view_of
from enrolment.api.views import EnrolmentView
from enrolment.payments import ProviderError
from enrolment.usecases import enrolments, payments

router = APIRouter(tags=["staff"])


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500)


@router.post("/enrolments/{enrolment_id}/withdraw", response_model=EnrolmentView)
async def withdraw(
    enrolment_id: UUID, body: Withdrawal, engine: Engine, policy: PolicyDep, staff: Staff
) -> EnrolmentView:
    """Withdraw a learner (a confirmed enrolment becomes withdrawn, any other is cancelled);
    the seat goes to the waitlist. Refunding is a separate decision."""
    async with engine.begin() as conn:
        await enrolments.withdraw(conn, enrolment_id, reason=body.reason, policy=policy, now=now())
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.ENROLMENT_WITHDRAW,
            "enrolment",
            enrolment_id,
            reason=body.reason,
        )
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
    async with engine.begin() as conn:
        await enrolments.transfer(
            conn, enrolment_id, to_offering_id=body.to_offering_id, policy=policy, now=now()
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.ENROLMENT_TRANSFER,
            "enrolment",
            enrolment_id,
            to_offering_id=str(body.to_offering_id),
        )
    return await view_of(engine, enrolment_id, staff)


class Refund(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(
        default=None, max_length=500, description="Why, for the audit log (optional)"
    )


@router.post("/enrolments/{enrolment_id}/refund", status_code=202, response_model=EnrolmentView)
async def refund(
    enrolment_id: UUID,
    engine: Engine,
    flows: Flows,
    staff: Staff,
    body: Refund = Body(default_factory=Refund),
) -> JSONResponse:
    """Refund the fee in full. Accepted (202): the provider's refund event then cancels an
    active enrolment and releases its seat. If the provider cannot be reached now, the
    refund stays due and the sweeper sends it. The body (optional) says why."""
    async with engine.begin() as conn:
        await payments.request_refund(conn, enrolment_id, now=now())
        await tables.audit.record_action(
            conn, staff, StaffAction.ENROLMENT_REFUND, "enrolment", enrolment_id, reason=body.reason
        )
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
    async with engine.begin() as conn:
        await enrolments.decide_eligibility(
            conn,
            enrolment_id,
            approved=body.approved,
            note=body.note,
            decided_by=staff.subject,
            policy=policy,
            now=now(),
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.ENROLMENT_ELIGIBILITY,
            "enrolment",
            enrolment_id,
            reason=body.note,
            approved=body.approved,
        )
    return await view_of(engine, enrolment_id, staff)
