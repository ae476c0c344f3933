"""Operations (scope `platform:operate`): whether the catalogue's announcements arrived
here, for the reconciler (a version's pass rule, an offering)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from assessment import repository
from credstack.auth import Principal, require
from credstack.service import Engine

router = APIRouter(tags=["operations"])
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="A published version")]


class KnownVersion(BaseModel):
    micro_credential_id: UUID
    version: int
    known: bool = Field(description="Whether its pass rule (MicroCredentialPublished) arrived")


class KnownOffering(BaseModel):
    offering_id: UUID
    known: bool = Field(description="Whether its OfferingScheduled arrived")


@router.get(
    "/admin/micro-credentials/{micro_credential_id}/versions/{version}",
    response_model=KnownVersion,
    summary="Whether assessment knows a published version's pass rule (for the reconciler)",
)
async def known_version(
    micro_credential_id: UUID,
    version: Version,
    engine: Engine,
    _: Principal = require("platform:operate"),
) -> KnownVersion:
    async with engine.connect() as conn:
        known = await repository.knows_pass_rule(conn, micro_credential_id, version)
    return KnownVersion(micro_credential_id=micro_credential_id, version=version, known=known)


@router.get(
    "/admin/offerings/{offering_id}",
    response_model=KnownOffering,
    summary="Whether assessment knows a scheduled offering (for the reconciler)",
)
async def known_offering(
    offering_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> KnownOffering:
    async with engine.connect() as conn:
        found = await repository.announced_offering(conn, offering_id)
    return KnownOffering(offering_id=offering_id, known=found is not None)
