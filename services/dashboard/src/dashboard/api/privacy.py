"""What the dashboard holds on a learner (their export); erasure arrives as
`LearnerDataErased`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from credstack.auth import Principal, require
from credstack.clock import now
from credstack.privacy import EXPORT_PATH
from credstack.service import Engine
from dashboard import privacy
from dashboard.api.deps import Staff
from dashboard.privacy import DashboardData

router = APIRouter(tags=["privacy"])


@router.get(EXPORT_PATH, response_model=DashboardData)
async def my_data(engine: Engine, learner: Principal = require("learner")) -> DashboardData:
    """What the dashboard holds on you: the platform's logged events about you and your
    enrolments (within the log's retention), and its views of your enrolments."""
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner.learner_id, at=now())


@router.get("/admin/learners/{learner_id}/data", response_model=DashboardData)
async def learner_data(learner_id: UUID, engine: Engine, _: Staff) -> DashboardData:
    """What the dashboard holds on a learner (staff, for a learner who asks)."""
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner_id, at=now())
