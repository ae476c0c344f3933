"""Operations (scope `platform:operate`): whether the catalogue's announcements arrived
here, for the reconciler (a micro-credential version, a stack version, an offering)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from credstack.auth import Principal, require
from credstack.service import Engine
from notifier.usecases import announced

router = APIRouter(tags=["operations"])
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="A published version")]
OPERATOR = require("platform:operate")


class KnownVersion(BaseModel):
    micro_credential_id: UUID
    version: int
    known: bool = Field(description="Whether this version (or a newer one) arrived")


class KnownStack(BaseModel):
    stack_id: UUID
    version: int
    known: bool = Field(description="Whether this version (or a newer one) arrived")


class KnownOffering(BaseModel):
    offering_id: UUID
    known: bool = Field(description="Whether its OfferingScheduled arrived")


@router.get(
    "/admin/micro-credentials/{micro_credential_id}/versions/{version}",
    response_model=KnownVersion,
    summary="Whether the notifier knows a published micro-credential version (for the reconciler)",
)
async def known_version(
    micro_credential_id: UUID, version: Version, engine: Engine, _: Principal = OPERATOR
) -> KnownVersion:
    async with engine.connect() as conn:
        known = await announced.knows_version(conn, micro_credential_id, version)
    return KnownVersion(micro_credential_id=micro_credential_id, version=version, known=known)


@router.get(
    "/admin/stacks/{stack_id}/versions/{version}",
    response_model=KnownStack,
    summary="Whether the notifier knows a published stack version (for the reconciler)",
)
async def known_stack(
    stack_id: UUID, version: Version, engine: Engine, _: Principal = OPERATOR
) -> KnownStack:
    async with engine.connect() as conn:
        known = await announced.knows_stack(conn, stack_id, version)
    return KnownStack(stack_id=stack_id, version=version, known=known)


@router.get(
    "/admin/offerings/{offering_id}",
    response_model=KnownOffering,
    summary="Whether the notifier knows a scheduled offering (for the reconciler)",
)
async def known_offering(
    offering_id: UUID, engine: Engine, _: Principal = OPERATOR
) -> KnownOffering:
    async with engine.connect() as conn:
        known = await announced.knows_offering(conn, offering_id)
    return KnownOffering(offering_id=offering_id, known=known)
