"""What the issuer holds on a learner (their export); erasure arrives as `LearnerErased`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from credstack.auth import Principal, learner_id_for, require
from credstack.clock import now
from credstack.privacy import EXPORT_PATH
from credstack.service import Engine
from issuer.usecases import privacy
from issuer.usecases.privacy import IssuerData

router = APIRouter(tags=["privacy"])


@router.get(EXPORT_PATH, response_model=IssuerData)
async def my_data(engine: Engine, learner: Principal = require("learner")) -> IssuerData:
    """Everything the issuer holds on you: contact details, awards, every credential issued
    to you (its signed document in full) and wallet claims."""
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner_id_for(learner.subject), at=now())


@router.get("/admin/learners/{learner_id}/data", response_model=IssuerData)
async def learner_data(
    learner_id: UUID, engine: Engine, _: Principal = require("issuer:manage")
) -> IssuerData:
    """What the issuer holds on a learner (staff, for a learner who asks)."""
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner_id, at=now())
