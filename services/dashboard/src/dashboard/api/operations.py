"""Operations (scope `platform:operate`): whether the catalogue's offering arrived in the
dashboard's read model, for the reconciler."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from credstack.service import Engine
from dashboard import repository
from dashboard.api.deps import Staff

router = APIRouter(tags=["operations"])


class KnownOffering(BaseModel):
    offering_id: UUID
    known: bool = Field(description="Whether its OfferingScheduled arrived")


@router.get(
    "/admin/offerings/{offering_id}",
    response_model=KnownOffering,
    summary="Whether the dashboard knows a scheduled offering (for the reconciler)",
)
async def known_offering(offering_id: UUID, engine: Engine, _: Staff) -> KnownOffering:
    async with engine.connect() as conn:
        known = await repository.knows_offering(conn, offering_id)
    return KnownOffering(offering_id=offering_id, known=known)
