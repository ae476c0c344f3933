"""Academic integrity cases: staff open one on a result and decide it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from assessment import records, tables
from assessment.api.common import cursor_key
from assessment.api.results import STAFF, CaseView, ResultView
from assessment.domain import (
    CaseStatus,
)
from assessment.usecases import results
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, page_of
from credstack.service import Engine

router = APIRouter(tags=["results"])


class CaseOpening(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: Literal["misconduct", "cleared"]
    note: str = Field(min_length=1, max_length=4000)


class CaseOpened(BaseModel):
    id: UUID
    enrolment_id: UUID
    status: CaseStatus


@router.post(
    "/enrolments/{enrolment_id}/integrity-cases",
    status_code=201,
    response_model=CaseOpened,
    summary="Open an academic integrity case (no pass is released while it is open)",
)
async def open_case(
    enrolment_id: UUID, body: CaseOpening, engine: Engine, staff: Principal = require(STAFF)
) -> CaseOpened:
    async with engine.begin() as conn:
        case_id = await results.open_case(
            conn, enrolment_id, reason=body.reason, by=staff.subject, now=now()
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.INTEGRITY_CASE_OPEN,
            "integrity-case",
            case_id,
            reason=body.reason,
            enrolment_id=str(enrolment_id),
        )
    return CaseOpened(id=case_id, enrolment_id=enrolment_id, status=CaseStatus.OPEN)


class CaseDecided(ResultView):
    id: UUID
    status: CaseStatus


@router.post(
    "/integrity-cases/{case_id}/finding",
    response_model=CaseDecided,
    summary="Decide a case: misconduct withdraws the result, cleared releases it",
)
async def decide_case(
    case_id: UUID, body: Finding, engine: Engine, staff: Principal = require(STAFF)
) -> CaseDecided:
    async with engine.begin() as conn:
        result = await results.decide_case(
            conn,
            case_id,
            finding=CaseStatus(body.finding),
            note=body.note,
            by=staff.subject,
            now=now(),
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.INTEGRITY_FINDING,
            "integrity-case",
            case_id,
            reason=body.note,
            finding=body.finding,
        )
    return CaseDecided(
        id=case_id, status=CaseStatus(body.finding), **ResultView.of(result).model_dump()
    )


@router.get(
    "/integrity-cases",
    response_model=Page[CaseView],
    summary="Integrity cases, open ones by default, oldest first",
)
async def list_cases(
    engine: Engine,
    status: CaseStatus = CaseStatus.OPEN,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require(STAFF),
) -> Page[CaseView]:
    after = cursor_key(cursor, datetime, UUID)
    async with engine.connect() as conn:
        found = await records.cases(conn, status, after=after, limit=limit + 1)
    page = page_of(found, limit, key=lambda c: (c.opened_at.isoformat(), str(c.id)))
    return Page(
        items=[CaseView.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )
