"""Events the assessment service publishes on `assessment.events`, keyed by enrolment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from credstack.contracts.envelope import Event


class _AssessmentEvent(Event):
    producer: ClassVar[str] = "assessment"

    enrolment_id: UUID

    def key(self) -> str:
        return str(self.enrolment_id)


class OutcomeResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    outcome_id: str
    demonstrated: bool


class GradeRecorded(_AssessmentEvent):
    """A grade for a confirmed enrolment, in percent; `final` = it may decide the result."""

    score: Decimal
    source: str
    final: bool = True
    recorded_at: datetime
    graded_at: datetime | None = Field(
        default=None, description="When the LMS graded it (the LMS's own timestamp)"
    )


class _Outcome(_AssessmentEvent):
    learner_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    decided_at: datetime
    sequence: int = Field(
        default=0,
        ge=0,
        description=(
            "The decision's place among this enrolment's decisions (pass, fail, attendance "
            "only, withdrawal), counting from 1; a consumer ignores a decision older than the "
            "latest it applied. A re-announcement repeats the sequence. 0: unversioned (older "
            "producers)."
        ),
    )


class AssessmentPassed(_Outcome):
    score: Decimal
    outcomes: list[OutcomeResult] = []
    evidence: list[str] = []


class AssessmentFailed(_Outcome):
    score: Decimal
    outcomes: list[OutcomeResult] = []


class AttendanceOnlyCompleted(_Outcome):
    """Attended the contact sessions but did not pass: a certificate of attendance."""

    sessions_attended: int
    sessions_total: int | None = None


class ResultWithdrawn(_Outcome):
    """A released pass no longer stands (regrade, misconduct): the issuer revokes.

    Also sent when a released certificate of attendance no longer stands (attendance
    corrected, misconduct); `released_outcome` says which result was withdrawn.
    """

    reason: str
    released_outcome: str | None = Field(
        default=None, description="The withdrawn result: passed or attendance_only"
    )


class PlacementAssessed(Event):
    """A language proficiency placement: the level a learner may enrol at."""

    producer: ClassVar[str] = "assessment"

    learner_id: UUID
    language: str
    level: str
    assessed_at: datetime

    def key(self) -> str:
        return str(self.learner_id)
