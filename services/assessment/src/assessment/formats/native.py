"""Credstack's own grade form: an overall percentage and, optionally, each learning outcome."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from assessment.domain import percent
from assessment.formats import Learner, Submission, as_utc
from credstack.contracts.assessment import OutcomeResult


class NativeGrade(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrolment_id: UUID
    score: Decimal = Field(ge=0, le=100, description="Overall score in percent")
    outcomes: list[OutcomeResult] | None = Field(
        default=None,
        description="Each learning outcome's result; when given, every outcome must be shown",
    )
    final: bool = Field(default=True, description="False for a provisional grade")
    graded_at: datetime | None = Field(
        default=None, description="When the LMS graded it; the latest grade counts"
    )
    evidence: list[HttpUrl] = Field(default=[], description="Links to the learner's work")


def native_submission(
    grade: NativeGrade, *, delivery_id: str | None, received_at: datetime
) -> Submission:
    """The grade; retries are recognised by `delivery_id` (the Idempotency-Key) if given,
    else by being identical to the enrolment's latest grade from the same client."""
    return Submission(
        source="native",
        learner=Learner(enrolment_id=grade.enrolment_id),
        stream=f"enrolment:{grade.enrolment_id}",
        score=percent(grade.score, Decimal(100)),
        final=grade.final,
        graded_at=as_utc(grade.graded_at or received_at),
        payload=grade.model_dump(mode="json"),
        delivery_id=delivery_id,
        outcomes=tuple(grade.outcomes) if grade.outcomes is not None else None,
        evidence=tuple(str(url) for url in grade.evidence),
    )
