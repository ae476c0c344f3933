"""Language proficiency placement results."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from assessment.tables import idempotency, placement
from assessment.usecases import placements
from credstack.auth import Principal, require
from credstack.idempotency import StoredResponse
from credstack.problems import Problem
from credstack.service import Engine, now

router = APIRouter(tags=["placement"])

CEFR_LEVEL = Literal["A1", "A2", "B1", "B2", "C1", "C2"]


class PlacementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learner_id: UUID
    language: str = Field(
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        max_length=35,
        description="BCP 47 language tag, e.g. ja or zh-Hans",
    )
    level: CEFR_LEVEL = Field(description="The CEFR level the learner may enrol at")
    note: str = Field(default="", max_length=4000)


def _view(row: Any) -> dict[str, Any]:
    return jsonable_encoder(dict(row._mapping))


@router.post("/placements", status_code=201, summary="Record a language placement result")
async def assess(
    body: PlacementRequest,
    engine: Engine,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    staff: Principal = require("assessment:moderate"),
) -> JSONResponse:
    """Publishes `PlacementAssessed` for enrolment, which admits the learner at that level."""
    at = now()
    async with engine.begin() as conn:

        async def create() -> StoredResponse:
            placement_id = await placements.assess(
                conn,
                learner_id=body.learner_id,
                language=body.language,
                level=body.level,
                note=body.note,
                by=staff.subject,
                now=at,
            )
            row = (
                await conn.execute(select(placement).where(placement.c.id == placement_id))
            ).one()
            return StoredResponse(201, _view(row))

        response = await idempotency.once(
            conn,
            scope=f"placement:{staff.subject}",
            key=idempotency_key,
            body=body.model_dump(mode="json"),
            create=create,
            now=at,
        )
    return JSONResponse(response.body, status_code=response.status)


@router.get("/learners/{learner_id}/placements", summary="A learner's placement results")
async def learner_placements(
    learner_id: UUID, engine: Engine, caller: Principal = require()
) -> list[dict[str, Any]]:
    """Staff see anyone's; a learner their own. Newest first."""
    if "assessment:moderate" not in caller.scopes and caller.learner_id != learner_id:
        raise Problem(404, "not-found", f"No placements visible for learner {learner_id}.")
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(placement)
            .where(placement.c.learner_id == learner_id)
            .order_by(placement.c.assessed_at.desc())
        )
        return [_view(row) for row in rows]
