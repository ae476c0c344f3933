"""The learner's record: their credentials and stack progress, and its CLR 2.0 export."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack import access
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.service import Engine
from issuer.api.common import VC_MEDIA_TYPE, CredentialSummary, IssuerDep, VcJson, documented
from issuer.identity import Issuer
from issuer.usecases import learner_records

router = APIRouter()
LEARNER = require("learner")


class MemberProgress(BaseModel):
    micro_credential_id: UUID
    held: bool
    title: str | None


class StackProgress(BaseModel):
    stack_id: UUID
    version: int
    title: str
    kind: str
    required: int
    within_months: int | None
    held: int
    members: list[MemberProgress]
    complete: bool
    credential_id: UUID | None


class LearnerRecord(BaseModel):
    learner_id: UUID
    credentials: list[CredentialSummary]
    stacks: list[StackProgress]


async def _record(engine: AsyncEngine, issuer: Issuer, learner_id: UUID) -> LearnerRecord:
    async with engine.connect() as conn:
        found = await learner_records.record(conn, learner_id)
    return LearnerRecord(
        learner_id=learner_id,
        credentials=[CredentialSummary.of(c, issuer) for c in found.credentials],
        stacks=[StackProgress.model_validate(s) for s in found.stacks],
    )


@router.get(
    "/learners/me/credentials",
    tags=["learner record"],
    summary="All my credentials and my progress towards each stack (learner)",
)
async def my_record(
    issuer: IssuerDep, engine: Engine, learner: Principal = LEARNER
) -> LearnerRecord:
    return await _record(engine, issuer, learner.learner_id)


@router.get(
    "/learners/me/clr",
    tags=["learner record"],
    summary="My record as a signed CLR 2.0 ClrCredential (learner)",
    response_class=VcJson,
    responses=documented(VC_MEDIA_TYPE, "The signed ClrCredential"),
)
async def my_clr(issuer: IssuerDep, engine: Engine, learner: Principal = LEARNER) -> VcJson:
    async with engine.begin() as conn:
        record = await learner_records.clr_credential(conn, issuer, learner.learner_id, at=now())
    return VcJson(
        record,
        headers={"Content-Disposition": 'attachment; filename="learner-record.json"'},
    )


@router.get(
    "/records/{record_id}",
    tags=["learner record"],
    summary="A learner's record at its stable id (public, like a credential's URL): the CLR, "
    "signed afresh with their active credentials",
    response_class=VcJson,
    responses=documented(VC_MEDIA_TYPE, "The signed ClrCredential"),
)
@access.public
async def clr_record(record_id: str, issuer: IssuerDep, engine: Engine) -> VcJson:
    learner_id = learner_records.learner_of(issuer, record_id)
    async with engine.begin() as conn:
        record = await learner_records.clr_credential(conn, issuer, learner_id, at=now())
    return VcJson(record, headers={"Cache-Control": "no-store"})


@router.get(
    "/learners/{learner_id}/credentials",
    tags=["learner record"],
    summary="A learner's credentials and stack progress (staff)",
)
async def learner_record(
    learner_id: UUID, issuer: IssuerDep, engine: Engine, _: Principal = require("issuer:manage")
) -> LearnerRecord:
    return await _record(engine, issuer, learner_id)
