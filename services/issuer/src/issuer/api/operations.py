"""Operations (scope `platform:operate`): what the reconciler asks the issuer: whether a
confirmed enrolment, a published micro-credential version or a stack version arrived."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from credstack.auth import Principal, require
from credstack.service import Engine
from issuer.usecases import readmodels

router = APIRouter()
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="A published version")]


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


class KnownVersion(BaseModel):
    micro_credential_id: UUID
    version: int
    known: bool = Field(
        description="Whether its MicroCredentialPublished arrived (the achievement)"
    )


class KnownStack(BaseModel):
    stack_id: UUID
    version: int
    known: bool = Field(description="Whether its StackPublished arrived")


@router.get(
    "/admin/micro-credentials/{micro_credential_id}/versions/{version}",
    tags=["operations"],
    response_model=KnownVersion,
    summary="Whether the issuer knows a published micro-credential version (for the reconciler)",
)
async def known_version(
    micro_credential_id: UUID,
    version: Version,
    engine: Engine,
    _: Principal = require("platform:operate"),
) -> KnownVersion:
    async with engine.connect() as conn:
        known = await readmodels.knows_achievement(conn, micro_credential_id, version)
    return KnownVersion(micro_credential_id=micro_credential_id, version=version, known=known)


@router.get(
    "/admin/stacks/{stack_id}/versions/{version}",
    tags=["operations"],
    response_model=KnownStack,
    summary="Whether the issuer knows a published stack version (for the reconciler)",
)
async def known_stack(
    stack_id: UUID, version: Version, engine: Engine, _: Principal = require("platform:operate")
) -> KnownStack:
    async with engine.connect() as conn:
        known = await readmodels.knows_stack(conn, stack_id, version)
    return KnownStack(stack_id=stack_id, version=version, known=known)
