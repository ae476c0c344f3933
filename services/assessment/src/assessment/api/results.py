"""Results and what staff do to them: moderation, academic integrity cases, attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assessment import records, repository
from assessment.api.common import client_id_of, cursor_key
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
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.contracts.assessment import OutcomeResult
from credstack.numbers import Quantity
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.problems import Problem
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
    return Moderated(
        moderation_id=moderated.moderation_id, **ResultView.of(moderated.result).model_dump()
    )


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
            client = await repository.client(conn, str(client_id))
        if client is not None and client.active and client.serves(offering_id):
            return
    raise Problem(
        403, "forbidden", f"Only staff or an LMS serving {offering_id} keep its register."
    )


class RegisterRecorded(BaseModel):
    offering_id: UUID
    session: int
    present: int
    absent: int


@router.put(
    "/offerings/{offering_id}/sessions/{session}/attendance",
    response_model=RegisterRecorded,
    summary="Record a contact session's register",
)
@access.scheme(
    "(in the handler) `assessment:moderate`, or `grades:write` naming an active LMS client"
    " serving the offering"
)
async def record_attendance(
    offering_id: UUID,
    session: Session,
    body: Register,
    engine: Engine,
    caller: Principal = require(),
) -> RegisterRecorded:
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
    return RegisterRecorded(
        offering_id=offering_id,
        session=session,
        present=len(set(body.present)),
        absent=len(set(body.absent)),
    )


class AttendanceView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session: int
    enrolment_id: UUID
    attended: bool
    recorded_by: str
    recorded_at: datetime


@router.get(
    "/offerings/{offering_id}/attendance",
    response_model=Page[AttendanceView],
    summary="The offering's attendance records, by session and enrolment",
)
async def offering_attendance(
    offering_id: UUID,
    engine: Engine,
    limit: Limit = 500,
    cursor: Cursor = None,
    _: Principal = require(STAFF),
) -> Page[AttendanceView]:
    after = cursor_key(cursor, int, UUID)
    async with engine.connect() as conn:
        found = await records.attendance_of(conn, offering_id, after=after, limit=limit + 1)
    page = page_of(found, limit, key=lambda a: (a.session, str(a.enrolment_id)))
    return Page(
        items=[AttendanceView.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


class ReleasedDecisionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    enrolment_id: UUID
    released_outcome: Outcome
    sequence: int = Field(description="The decision sequence its events carried")
    released_at: datetime | None


class Reannounced(BaseModel):
    enrolment_id: UUID
    events: list[str] = Field(description="The event types staged again (new event ids)")


@router.get(
    "/admin/decisions",
    response_model=Page[ReleasedDecisionView],
    tags=["operations"],
    summary="Every released result with its decision sequence (for the reconciler)",
)
async def released_decisions(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[ReleasedDecisionView]:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        found = await repository.released_decisions(
            conn, after=UUID(after) if after else None, limit=limit + 1
        )
    page = page_of(found, limit, lambda d: (str(d.enrolment_id),))
    return Page(
        items=[ReleasedDecisionView.model_validate(d) for d in page.items],
        next_cursor=page.next_cursor,
    )


class KnownEnrolment(BaseModel):
    enrolment_id: UUID
    known: bool = Field(description="Whether assessment has learnt of its confirmation")


@router.get(
    "/admin/enrolments/{enrolment_id}",
    response_model=KnownEnrolment,
    tags=["operations"],
    summary="Whether assessment knows a confirmed enrolment (for the reconciler)",
)
async def known_enrolment(
    enrolment_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> KnownEnrolment:
    async with engine.connect() as conn:
        record = await repository.enrolment_record(conn, enrolment_id)
    return KnownEnrolment(enrolment_id=enrolment_id, known=record is not None)


@router.post(
    "/admin/decisions/{enrolment_id}/re-announce",
    response_model=Reannounced,
    tags=["operations"],
    summary="Publish the released result again, at its own sequence, with new event ids",
)
async def reannounce(
    enrolment_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> Reannounced:
    """The reconciler's repair for a consumer that missed a decision; consumers apply an
    equal sequence again idempotently and ignore it when they hold a newer one."""
    async with engine.begin() as conn:
        events = await results.reannounce(conn, enrolment_id, now=now())
    return Reannounced(enrolment_id=enrolment_id, events=events)
