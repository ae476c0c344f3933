"""What the notifier holds on a learner (their export); erasure arrives as `LearnerErased`
or staff's `DELETE /admin/learners/{learner_id}/contact`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from credstack.auth import Principal, learner_id_for, require
from credstack.clock import now
from credstack.privacy import EXPORT_PATH
from credstack.service import Engine
from notifier.usecases import privacy
from notifier.usecases.privacy import NotifierData

router = APIRouter(tags=["privacy"])


def _verified_email(learner: Principal) -> list[str]:
    email = learner.claims.get("email")
    return [str(email)] if email and learner.claims.get("email_verified") is True else []


@router.get(EXPORT_PATH, response_model=NotifierData)
async def my_data(engine: Engine, learner: Principal = require("learner")) -> NotifierData:
    """Everything the notifier holds on you: contact details, preferences, interest
    registrations of your address, the messages written to you, and what it knows of your
    enrolments and credentials to write about them."""
    async with engine.connect() as conn:
        return await privacy.learner_data(
            conn, learner_id_for(learner.subject), emails=_verified_email(learner), at=now()
        )


@router.get("/admin/learners/{learner_id}/data", response_model=NotifierData)
async def learner_data(
    learner_id: UUID, engine: Engine, _: Principal = require("notifier:manage")
) -> NotifierData:
    """What the notifier holds on a learner (staff, for a learner who asks)."""
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner_id, emails=(), at=now())
