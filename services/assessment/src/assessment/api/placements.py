"""Language proficiency placement results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from assessment import records, tables
from assessment.api.common import cursor_key
from assessment.tables import idempotency
from assessment.usecases import NotFound, placements
from credstack import access
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.idempotency import StoredResponse
from credstack.pagination import Cursor, Limit, Page, page_of
from credstack.service import Engine

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


class PlacementView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    learner_id: UUID
    language: str
    level: CEFR_LEVEL
    note: str
    assessed_by: str
    assessed_at: datetime


@router.post(
    "/placements",
    status_code=201,
    response_model=PlacementView,
    summary="Record a language placement result",
)
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
            await tables.audit.record_action(
                conn,
                staff,
                StaffAction.PLACEMENT_RECORD,
                "placement",
                placement_id,
                reason=body.note or None,
                learner_id=str(body.learner_id),
                language=body.language,
                level=str(body.level),
            )
            found = await records.placement_by_id(conn, placement_id)
            if found is None:
                raise NotFound(f"No placement {placement_id}.")
            view = PlacementView.model_validate(found)
            return StoredResponse(201, view.model_dump(mode="json"))

        response = await idempotency.once(
            conn,
            scope=f"placement:{staff.subject}",
            key=idempotency_key,
            body=body.model_dump(mode="json"),
            create=create,
            now=at,
        )
    return JSONResponse(response.body, status_code=response.status)


@router.get(
    "/learners/{learner_id}/placements",
    response_model=Page[PlacementView],
    summary="A learner's placement results, newest first",
)
@access.scheme("(in the handler) the learner themself, or `assessment:moderate`")
async def learner_placements(
    learner_id: UUID,
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    caller: Principal = require(),
) -> Page[PlacementView]:
    """Staff see anyone's; a learner their own."""
    if "assessment:moderate" not in caller.scopes and caller.learner_id != learner_id:
        raise NotFound(f"No placements visible for learner {learner_id}.")
    before = cursor_key(cursor, datetime, UUID)
    async with engine.connect() as conn:
        found = await records.placements_of(conn, learner_id, before=before, limit=limit + 1)
    page = page_of(found, limit, key=lambda p: (p.assessed_at.isoformat(), str(p.id)))
    return Page(
        items=[PlacementView.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )
