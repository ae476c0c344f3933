"""The staff side of stacks (series or suites of micro-credentials): propose, submit,
approve, publish; each step recorded in the audit log in its own transaction."""

from __future__ import annotations

from uuid import uuid4

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue import repository, usecases
from catalogue.api import Approver, IdempotencyKey, Staff, audit, create_once
from catalogue.domain import Stack
from catalogue.views import StackDraft, StackView
from credstack.audit import StaffAction
from credstack.clock import now
from credstack.service import Engine

router = APIRouter(tags=["staff"])


@router.post(
    "/stacks",
    status_code=201,
    response_model=StackView,
    summary="Propose a stack (series or suite)",
)
async def propose_stack(
    draft: StackDraft, engine: Engine, staff: Staff, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def create(conn: AsyncConnection) -> StackView:
        member_ids = await usecases.member_ids(conn, draft.member_codes)
        item = Stack(
            id=uuid4(),
            version=1,
            proposed_by=staff.subject,
            approved_by=None,
            members=await repository.stack_members(conn, member_ids),
            **draft.model_dump(exclude={"member_codes", "learning_outcomes", "credit_pathways"}),
            learning_outcomes=draft.learning_outcomes,
            credit_pathways=draft.credit_pathways,
        )
        proposed = await usecases.propose_stack(conn, item, now=now())
        await audit(conn, staff, StaffAction.STACK_PROPOSE, item.code, kind="stack")
        return StackView.of(proposed)

    return await create_once(
        engine, scope=f"stack:{staff.subject}", key=idempotency_key, body=draft, create=create
    )


@router.post("/stacks/{code}/submit", response_model=StackView, summary="Submit a stack")
async def submit_stack(code: str, engine: Engine, staff: Staff) -> StackView:
    async with engine.begin() as conn:
        item = await usecases.submit_stack(conn, code, now=now())
        await audit(conn, staff, StaffAction.STACK_SUBMIT, code, kind="stack")
        return StackView.of(item)


@router.post("/stacks/{code}/approve", response_model=StackView, summary="Approve a stack")
async def approve_stack(code: str, engine: Engine, approver: Approver) -> StackView:
    async with engine.begin() as conn:
        item = await usecases.approve_stack(conn, code, approver=approver.subject, now=now())
        await audit(conn, approver, StaffAction.STACK_APPROVE, code, kind="stack")
        return StackView.of(item)


@router.post("/stacks/{code}/publish", response_model=StackView, summary="Publish a stack")
async def publish_stack(code: str, engine: Engine, approver: Approver) -> StackView:
    async with engine.begin() as conn:
        item = await usecases.publish_stack(conn, code, now=now())
        await audit(conn, approver, StaffAction.STACK_PUBLISH, code, kind="stack")
        return StackView.of(item)
