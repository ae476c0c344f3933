"""Grade intake from LMS integrations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from assessment import usecases
from credstack.auth import Principal, require
from credstack.contracts.assessment import OutcomeResult
from credstack.service import Engine, now

router = APIRouter(tags=["grades"])


class NativeGrade(BaseModel):
    """Credstack's own grade form: an overall percentage and, optionally, each outcome."""

    model_config = ConfigDict(extra="forbid")

    enrolment_id: UUID
    score: Decimal = Field(ge=0, le=100, description="Overall score in percent")
    outcomes: list[OutcomeResult] | None = None


@router.post("/grades", status_code=202, summary="Post a final grade (native JSON form)")
async def post_grade(
    body: NativeGrade, engine: Engine, lms: Principal = require("grades:write")
) -> dict[str, Any]:
    async with engine.begin() as conn:
        outcome = await usecases.record_grade(
            conn,
            enrolment_id=body.enrolment_id,
            score=body.score,
            outcomes=body.outcomes,
            source="native",
            client=lms.subject,
            now=now(),
        )
    return {"enrolment_id": body.enrolment_id, "accepted": True, "outcome": outcome}
