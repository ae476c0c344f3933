"""Released decisions, for the reconciler: listed, looked up by enrolment, re-announced."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from assessment import repository, tables
from assessment.domain import (
    Outcome,
)
from assessment.usecases import results
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.service import Engine

router = APIRouter(tags=["results"])


class ReleasedDecisionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    enrolment_id: UUID
    released_outcome: Outcome
    sequence: int = Field(description="The decision sequence its events carried")
    released_at: datetime | None


class Reannounced(BaseModel):
    enrolment_id: UUID
    events: list[str] = Field(description="The event types staged again (new event ids)")


@router.get(
    "/admin/decisions",
    response_model=Page[ReleasedDecisionView],
    tags=["operations"],
    summary="Every released result with its decision sequence (for the reconciler)",
)
async def released_decisions(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[ReleasedDecisionView]:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        found = await repository.released_decisions(
            conn, after=UUID(after) if after else None, limit=limit + 1
        )
    page = page_of(found, limit, lambda d: (str(d.enrolment_id),))
    return Page(
        items=[ReleasedDecisionView.model_validate(d) for d in page.items],
        next_cursor=page.next_cursor,
    )


class KnownEnrolment(BaseModel):
    enrolment_id: UUID
    known: bool = Field(description="Whether assessment has learnt of its confirmation")


@router.get(
    "/admin/enrolments/{enrolment_id}",
    response_model=KnownEnrolment,
    tags=["operations"],
    summary="Whether assessment knows a confirmed enrolment (for the reconciler)",
)
async def known_enrolment(
    enrolment_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> KnownEnrolment:
    async with engine.connect() as conn:
        record = await repository.enrolment_record(conn, enrolment_id)
    return KnownEnrolment(enrolment_id=enrolment_id, known=record is not None)


@router.post(
    "/admin/decisions/{enrolment_id}/re-announce",
    response_model=Reannounced,
    tags=["operations"],
    summary="Publish the released result again, at its own sequence, with new event ids",
)
async def reannounce(
    enrolment_id: UUID, engine: Engine, staff: Principal = require("platform:operate")
) -> Reannounced:
    """The reconciler's repair for a consumer that missed a decision; consumers apply an
    equal sequence again idempotently and ignore it when they hold a newer one."""
    async with engine.begin() as conn:
        events = await results.reannounce(conn, enrolment_id, now=now())
        await tables.audit.record_action(
            conn, staff, StaffAction.DECISION_REANNOUNCE, "enrolment", enrolment_id, events=events
        )
    return Reannounced(enrolment_id=enrolment_id, events=events)
