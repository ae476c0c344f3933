"""What assessment holds on a learner (their export); erasure arrives as `LearnerDataErased`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from assessment.usecases import privacy
from assessment.usecases.privacy import AssessmentData
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.privacy import EXPORT_PATH
from credstack.service import Engine

router = APIRouter(tags=["privacy"])


@router.get(EXPORT_PATH, response_model=AssessmentData)
async def my_data(engine: Engine, learner: Principal = require("learner")) -> AssessmentData:
    """Everything assessment holds on you: per enrolment, the grades your LMS sent, your
    attendance, your LMS identifiers, and your result with its moderations and integrity
    decisions (withheld, and said so, while an integrity case is open); your placements."""
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner.learner_id, at=now())


@router.get("/admin/learners/{learner_id}/data", response_model=AssessmentData)
async def learner_data(
    learner_id: UUID, engine: Engine, _: Principal = require("assessment:moderate")
) -> AssessmentData:
    """What assessment holds on a learner (staff, for a learner who asks)."""
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner_id, at=now())
