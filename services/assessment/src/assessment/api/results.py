"""Results and what staff do to them: moderation, academic integrity cases, attendance."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from assessment import repository
from assessment.api.common import client_id_of
from assessment.domain import CaseStatus, ModerationAction, Outcome, Result
from assessment.tables import attendance, grade, integrity_case, moderation
from assessment.usecases import results
from credstack.auth import Principal, require
from credstack.contracts.assessment import OutcomeResult
from credstack.numbers import Quantity
from credstack.problems import Problem
from credstack.service import Engine, now

router = APIRouter(tags=["results"])

STAFF = "assessment:moderate"
CASE_COLUMNS = (
    "id",
    "status",
    "reason",
    "opened_by",
    "opened_at",
    "finding_note",
    "decided_by",
    "decided_at",
)


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _result_view(result: Result | None) -> dict[str, Any]:
    result = result or Result()
    return {
        "outcome": result.outcome.value if result.outcome else None,
        "released_outcome": result.released.value if result.released else None,
        "held": result.held,
        "score": _number(result.score),
        "outcomes": [o.model_dump() for o in result.outcomes or ()],
    }


def _rows(rows: Any, *columns: str) -> list[dict[str, Any]]:
    views = []
    for row in rows:
        view = {}
        for column in columns:
            value = getattr(row, column)
            if isinstance(value, Decimal):
                value = _number(value)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, UUID):
                value = str(value)
            view[column] = value
        views.append(view)
    return views


@router.get("/enrolments/{enrolment_id}/result", summary="An enrolment's result and its record")
async def get_result(
    enrolment_id: UUID, engine: Engine, caller: Principal = require()
) -> dict[str, Any]:
    """Staff see the whole record: grades, moderations, integrity cases, attendance.
    The learner sees their released result only."""
    async with engine.connect() as conn:
        record = await repository.enrolment_record(conn, enrolment_id)
        staff = STAFF in caller.scopes
        if record is None or not (staff or record.enrolment.learner_id == caller.learner_id):
            raise Problem(404, "not-found", f"No assessed enrolment {enrolment_id}.")
        result = record.result
        if not staff:
            released = result.released
            return {
                "enrolment_id": str(enrolment_id),
                "released_outcome": released.value if released else None,
                "score": _number(result.score) if released and released is result.outcome else None,
            }
        grades = await conn.execute(
            select(grade).where(grade.c.enrolment_id == enrolment_id).order_by(grade.c.id)
        )
        moderations = await conn.execute(
            select(moderation)
            .where(moderation.c.enrolment_id == enrolment_id)
            .order_by(moderation.c.id)
        )
        cases = await conn.execute(
            select(integrity_case)
            .where(integrity_case.c.enrolment_id == enrolment_id)
            .order_by(integrity_case.c.opened_at)
        )
        return {
            "enrolment_id": str(enrolment_id),
            "learner_id": str(record.enrolment.learner_id),
            "offering_id": str(record.offering_id),
            "enrolment_status": record.status,
            **_result_view(result),
            "attendance": {
                "attended": record.attendance.attended,
                "sessions": record.attendance.sessions,
            },
            "grades": _rows(
                grades,
                "id",
                "client_id",
                "source",
                "status",
                "score",
                "final",
                "graded_at",
                "received_at",
                "note",
            ),
            "moderations": _rows(
                moderations,
                "id",
                "action",
                "score",
                "outcome",
                "reason",
                "moderated_by",
                "moderated_at",
                "outcome_before",
                "outcome_after",
            ),
            "integrity_cases": _rows(cases, *CASE_COLUMNS),
        }


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: ModerationAction
    reason: str = Field(min_length=1, max_length=4000, description="Recorded in the audit trail")
    score: Quantity | None = Field(
        default=None, ge=0, le=100, description="Regrade: the new overall score in percent"
    )
    outcomes: list[OutcomeResult] | None = Field(
        default=None, description="Regrade: each outcome's result (default: the LMS grade's)"
    )
    outcome: Literal["passed", "failed", "attendance_only"] | None = Field(
        default=None, description="Override: the outcome that stands, whatever the grade"
    )

    @model_validator(mode="after")
    def _fits_action(self) -> ModerationRequest:
        if self.action is ModerationAction.REGRADE and (self.score is None or self.outcome):
            raise ValueError("a regrade gives a score (and no outcome)")
        if self.action is ModerationAction.OVERRIDE and (
            self.outcome is None or self.score is not None or self.outcomes is not None
        ):
            raise ValueError("an override gives the outcome (and no score)")
        return self


@router.post(
    "/enrolments/{enrolment_id}/moderations",
    status_code=201,
    summary="Moderate a result: regrade or override, with a reason",
)
async def moderate(
    enrolment_id: UUID,
    body: ModerationRequest,
    engine: Engine,
    staff: Principal = require(STAFF),
) -> dict[str, Any]:
    """A moderation stands over the LMS's grades until the next one. If it turns a
    released pass into anything else, `ResultWithdrawn` is sent (the issuer revokes)."""
    async with engine.begin() as conn:
        moderated = await results.moderate(
            conn,
            enrolment_id,
            action=body.action,
            reason=body.reason,
            score=body.score,
            outcomes=tuple(body.outcomes) if body.outcomes is not None else None,
            outcome=Outcome(body.outcome) if body.outcome else None,
            by=staff.subject,
            now=now(),
        )
    return {"moderation_id": moderated.moderation_id, **_result_view(moderated.result)}


class CaseOpening(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: Literal["misconduct", "cleared"]
    note: str = Field(min_length=1, max_length=4000)


@router.post(
    "/enrolments/{enrolment_id}/integrity-cases",
    status_code=201,
    summary="Open an academic integrity case (no pass is released while it is open)",
)
async def open_case(
    enrolment_id: UUID, body: CaseOpening, engine: Engine, staff: Principal = require(STAFF)
) -> dict[str, Any]:
    async with engine.begin() as conn:
        case_id = await results.open_case(
            conn, enrolment_id, reason=body.reason, by=staff.subject, now=now()
        )
    return {"id": str(case_id), "enrolment_id": str(enrolment_id), "status": "open"}


@router.post(
    "/integrity-cases/{case_id}/finding",
    summary="Decide a case: misconduct withdraws the result, cleared releases it",
)
async def decide_case(
    case_id: UUID, body: Finding, engine: Engine, staff: Principal = require(STAFF)
) -> dict[str, Any]:
    async with engine.begin() as conn:
        result = await results.decide_case(
            conn,
            case_id,
            finding=CaseStatus(body.finding),
            note=body.note,
            by=staff.subject,
            now=now(),
        )
    return {"id": str(case_id), "status": body.finding, **_result_view(result)}


@router.get("/integrity-cases", summary="Integrity cases, open ones by default")
async def list_cases(
    engine: Engine,
    status: Literal["open", "misconduct", "cleared"] = "open",
    _: Principal = require(STAFF),
) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(integrity_case)
            .where(integrity_case.c.status == status)
            .order_by(integrity_case.c.opened_at)
            .limit(500)
        )
        return _rows(rows, "enrolment_id", *CASE_COLUMNS)


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid")

    present: list[UUID] = Field(default=[], description="Enrolments that attended the session")
    absent: list[UUID] = Field(default=[], description="Enrolments that did not")


Session = Annotated[int, Path(ge=1, le=1000, description="The contact session's number, from 1")]


async def _may_record(engine: Engine, caller: Principal, offering_id: UUID) -> None:
    """Staff, or an LMS client registered for the offering, keep the register."""
    if STAFF in caller.scopes:
        return
    client_id = client_id_of(caller)
    if "grades:write" in caller.scopes and client_id is not None:
        async with engine.connect() as conn:
            row = await repository.client_row(conn, str(client_id))
        if row is not None and row.active and offering_id in row.offering_ids:
            return
    raise Problem(
        403, "forbidden", f"Only staff or an LMS serving {offering_id} keep its register."
    )


@router.put(
    "/offerings/{offering_id}/sessions/{session}/attendance",
    summary="Record a contact session's register",
)
async def record_attendance(
    offering_id: UUID,
    session: Session,
    body: Register,
    engine: Engine,
    caller: Principal = require(),
) -> JSONResponse:
    """Replaces what was recorded for the enrolments named. A learner who attended (by
    default 80% of the contact sessions) but did not pass earns a certificate of
    attendance when the result is final."""
    await _may_record(engine, caller, offering_id)
    async with engine.begin() as conn:
        await results.record_attendance(
            conn,
            offering_id,
            session,
            present=set(body.present),
            absent=set(body.absent),
            by=caller.subject,
            now=now(),
        )
    return JSONResponse(
        {
            "offering_id": str(offering_id),
            "session": session,
            "present": len(set(body.present)),
            "absent": len(set(body.absent)),
        }
    )


@router.get("/offerings/{offering_id}/attendance", summary="The offering's attendance records")
async def offering_attendance(
    offering_id: UUID, engine: Engine, _: Principal = require(STAFF)
) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(attendance)
            .where(attendance.c.offering_id == offering_id)
            .order_by(attendance.c.session, attendance.c.enrolment_id)
        )
        return _rows(rows, "session", "enrolment_id", "attended", "recorded_by", "recorded_at")
