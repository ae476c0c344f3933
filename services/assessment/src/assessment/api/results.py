"""Results and what staff do to them: a result with its grades and cases, and moderation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assessment import records, repository, tables
from assessment.domain import (
    CaseStatus,
    EnrolmentStatus,
    GradeStatus,
    ModerationAction,
    Outcome,
    Result,
)
from assessment.usecases import NotFound, results
from credstack import access
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.contracts.assessment import OutcomeResult
from credstack.numbers import Quantity
from credstack.service import Engine

router = APIRouter(tags=["results"])

STAFF = "assessment:moderate"


class ResultView(BaseModel):
    outcome: Outcome | None
    released_outcome: Outcome | None
    held: bool
    score: Quantity | None
    outcomes: list[OutcomeResult]

    @classmethod
    def of(cls, result: Result | None) -> ResultView:
        result = result or Result()
        return cls(
            outcome=result.outcome,
            released_outcome=result.released,
            held=result.held,
            score=result.score,
            outcomes=list(result.outcomes or ()),
        )


class AttendanceSummary(BaseModel):
    attended: int
    sessions: int | None


class GradeRecordView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    source: str
    status: GradeStatus
    score: Quantity | None
    final: bool
    graded_at: datetime
    received_at: datetime
    note: str | None
    activity: str | None = Field(
        description="The LMS's id of what was graded (line item, assignable, xAPI object, "
        "Moodle grade item)"
    )
    summative: bool = Field(
        description="Whether it is the declared summative assessment; formative grades "
        "are shown here and never decide the result"
    )


class ModerationView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: ModerationAction
    score: Quantity | None
    outcome: Outcome | None
    reason: str
    moderated_by: str
    moderated_at: datetime
    outcome_before: Outcome | None
    outcome_after: Outcome | None


class CaseView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    enrolment_id: UUID
    status: CaseStatus
    reason: str
    opened_by: str
    opened_at: datetime
    finding_note: str | None
    decided_by: str | None
    decided_at: datetime | None


class EnrolmentResult(ResultView):
    """The whole record, for staff."""

    enrolment_id: UUID
    learner_id: UUID
    offering_id: UUID
    enrolment_status: EnrolmentStatus
    attendance: AttendanceSummary
    grades: list[GradeRecordView]
    moderations: list[ModerationView]
    integrity_cases: list[CaseView]


class ReleasedResult(BaseModel):
    """What the learner sees: the released outcome, and the score if it stands."""

    enrolment_id: UUID
    released_outcome: Outcome | None
    score: Quantity | None


@router.get(
    "/enrolments/{enrolment_id}/result",
    response_model=EnrolmentResult | ReleasedResult,
    summary="An enrolment's result and its record",
)
@access.scheme(
    "(in the handler) the enrolment's learner (released result only), or `assessment:moderate`"
)
async def get_result(
    enrolment_id: UUID, engine: Engine, caller: Principal = require()
) -> EnrolmentResult | ReleasedResult:
    """Staff see the whole record: grades, moderations, integrity cases, attendance.
    The learner sees their released result only."""
    async with engine.connect() as conn:
        record = await repository.enrolment_record(conn, enrolment_id)
        staff = STAFF in caller.scopes
        if record is None or not (staff or record.enrolment.learner_id == caller.learner_id):
            raise NotFound(f"No assessed enrolment {enrolment_id}.")
        result = record.result
        if not staff:
            released = result.released
            return ReleasedResult(
                enrolment_id=enrolment_id,
                released_outcome=released,
                score=result.score if released and released is result.outcome else None,
            )
        return EnrolmentResult(
            enrolment_id=enrolment_id,
            learner_id=record.enrolment.learner_id,
            offering_id=record.offering_id,
            enrolment_status=record.status,
            **ResultView.of(result).model_dump(),
            attendance=AttendanceSummary(
                attended=record.attendance.attended, sessions=record.attendance.sessions
            ),
            grades=[
                GradeRecordView.model_validate(g)
                for g in await records.grades_of(conn, enrolment_id)
            ],
            moderations=[
                ModerationView.model_validate(m)
                for m in await records.moderations_of(conn, enrolment_id)
            ],
            integrity_cases=[
                CaseView.model_validate(c) for c in await records.cases_of(conn, enrolment_id)
            ],
        )


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


class Moderated(ResultView):
    moderation_id: int


@router.post(
    "/enrolments/{enrolment_id}/moderations",
    status_code=201,
    response_model=Moderated,
    summary="Moderate a result: regrade or override, with a reason",
)
async def moderate(
    enrolment_id: UUID,
    body: ModerationRequest,
    engine: Engine,
    staff: Principal = require(STAFF),
) -> Moderated:
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
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.RESULT_MODERATE,
            "enrolment",
            enrolment_id,
            reason=body.reason,
            moderation_id=moderated.moderation_id,
            **body.model_dump(mode="json", exclude={"reason"}, exclude_none=True),
        )
    return Moderated(
        moderation_id=moderated.moderation_id, **ResultView.of(moderated.result).model_dump()
    )
