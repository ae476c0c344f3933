"""Grades the service could not place (quarantined) and Moodle fetches, for staff to resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import records, tables
from assessment.domain import GradeStatus
from assessment.usecases import NotFound
from assessment.usecases import registry as clients
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.numbers import Quantity
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.service import Engine

router = APIRouter(tags=["LMS integrations"])


class QuarantinedGrade(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    source: str
    status: GradeStatus
    note: str | None
    subjects: list[str]
    offering_id: UUID | None
    enrolment_id: UUID | None
    score: Quantity | None
    final: bool
    graded_at: datetime
    received_at: datetime
    payload: Any = Field(description="What the integration sent")


async def _grade_view(conn: AsyncConnection, grade_id: int) -> QuarantinedGrade:
    found = await records.stored_grade(conn, grade_id)
    if found is None:
        raise NotFound(f"No grade {grade_id}.")
    return QuarantinedGrade.model_validate(found)


@router.get(
    "/quarantined-grades",
    response_model=Page[QuarantinedGrade],
    summary="Valid grades that map to no enrolment",
)
async def quarantined(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    client_id: str | None = None,
    _: Principal = require("assessment:moderate"),
) -> Page[QuarantinedGrade]:
    """Each with the reason (`note`), the client's identifiers of the learner and what it
    sent. Link the identifier (POST /roster-links), assign or dismiss the grade."""
    (after,) = decode_cursor(cursor, int) if cursor else (None,)
    async with engine.connect() as conn:
        found = await records.quarantined_grades(
            conn, client_id=client_id, after=after, limit=limit + 1
        )
    page = page_of(found, limit, key=lambda grade: (grade.id,))
    return Page(
        items=[QuarantinedGrade.model_validate(g) for g in page.items],
        next_cursor=page.next_cursor,
    )


class MoodleFetchView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    course_id: int
    user_id: int
    item_id: int | None
    notified_at: datetime
    received_at: datetime
    attempts: int = Field(description="Fetches tried so far")
    next_attempt_at: datetime
    last_error: str | None = Field(description="Why the last fetch failed (None: not tried)")


@router.get(
    "/moodle-fetches",
    response_model=Page[MoodleFetchView],
    summary="Moodle grade notifications whose grade is not fetched yet, with the last error",
)
async def moodle_fetches(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    failing: bool = False,
    _: Principal = require("assessment:moderate"),
) -> Page[MoodleFetchView]:
    """`failing=true`: only those whose last fetch failed (the worker retries them)."""
    (after,) = decode_cursor(cursor, int) if cursor else (None,)
    async with engine.connect() as conn:
        found = await records.pending_moodle_fetches(
            conn, failing_only=failing, after=after, limit=limit + 1
        )
    page = page_of(found, limit, key=lambda fetch: (fetch.id,))
    return Page(
        items=[MoodleFetchView.model_validate(f) for f in page.items],
        next_cursor=page.next_cursor,
    )


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrolment_id: UUID
    note: str = Field(min_length=1, max_length=2000, description="Why this enrolment")


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000, description="Why the grade never counts")


@router.post(
    "/quarantined-grades/{grade_id}/assign",
    response_model=QuarantinedGrade,
    summary="Attach a quarantined grade",
)
async def assign(
    grade_id: int,
    body: Assignment,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> QuarantinedGrade:
    async with engine.begin() as conn:
        await clients.assign(
            conn,
            grade_id,
            enrolment_id=body.enrolment_id,
            note=body.note,
            by=staff.subject,
            now=now(),
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.QUARANTINED_GRADE_ASSIGN,
            "quarantined-grade",
            grade_id,
            reason=body.note,
            enrolment_id=str(body.enrolment_id),
        )
        return await _grade_view(conn, grade_id)


@router.post(
    "/quarantined-grades/{grade_id}/dismiss",
    response_model=QuarantinedGrade,
    summary="Set a quarantined grade aside",
)
async def dismiss(
    grade_id: int,
    body: Dismissal,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> QuarantinedGrade:
    async with engine.begin() as conn:
        await clients.dismiss(conn, grade_id, note=body.note, by=staff.subject, now=now())
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.QUARANTINED_GRADE_DISMISS,
            "quarantined-grade",
            grade_id,
            reason=body.note,
        )
        return await _grade_view(conn, grade_id)
