"""Operations (scope `platform:operate`): what the reconciler asks the issuer."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from credstack.auth import Principal, require
from credstack.service import Engine
from issuer.usecases import readmodels

router = APIRouter()


class KnownEnrolment(BaseModel):
    enrolment_id: UUID
    known: bool = Field(description="Whether the issuer has learnt of its confirmation")


@router.get(
    "/admin/enrolments/{enrolment_id}",
    tags=["operations"],
    response_model=KnownEnrolment,
    summary="Whether the issuer knows a confirmed enrolment (for the reconciler)",
)
async def known_enrolment(
    enrolment_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> KnownEnrolment:
    async with engine.connect() as conn:
        known = await readmodels.knows_enrolment(conn, enrolment_id)
    return KnownEnrolment(enrolment_id=enrolment_id, known=known)
