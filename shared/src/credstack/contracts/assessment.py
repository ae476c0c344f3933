"""Events the assessment service publishes on `assessment.events`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

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
    score: Decimal
    source: str
    recorded_at: datetime


class _Outcome(_AssessmentEvent):
    learner_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    decided_at: datetime


class AssessmentPassed(_Outcome):
    score: Decimal
    outcomes: list[OutcomeResult] = []
    evidence: list[str] = []


class AssessmentFailed(_Outcome):
    score: Decimal
    outcomes: list[OutcomeResult] = []


class AttendanceOnlyCompleted(_Outcome):
    sessions_attended: int


class ResultWithdrawn(_Outcome):
    reason: str
