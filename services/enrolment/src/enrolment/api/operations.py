"""Operations (scope `platform:operate`): what the reconciler reads and the repair it asks
for: confirmed enrolments, and their confirmation announced again."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.service import Engine
from enrolment import repository, tables
from enrolment.usecases import enrolments

router = APIRouter(tags=["operations"])


class ConfirmedEnrolment(BaseModel):
    enrolment_id: UUID


class Reannounced(BaseModel):
    enrolment_id: UUID
    events: list[str] = Field(description="The event types staged again (new event ids)")


@router.get(
    "/admin/confirmed-enrolments",
    response_model=Page[ConfirmedEnrolment],
    summary="Every confirmed enrolment, in id order (for the reconciler)",
)
async def confirmed_enrolments(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[ConfirmedEnrolment]:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        found = await repository.confirmed_ids(
            conn, after=UUID(after) if after else None, limit=limit + 1
        )
    page = page_of(found, limit, lambda e: (str(e),))
    return Page(
        items=[ConfirmedEnrolment(enrolment_id=e) for e in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/admin/enrolments/{enrolment_id}/re-announce",
    response_model=Reannounced,
    summary="Publish a confirmed enrolment's EnrolmentConfirmed again, with a new event id",
)
async def reannounce(
    enrolment_id: UUID, engine: Engine, staff: Principal = require("platform:operate")
) -> Reannounced:
    """The reconciler's repair for a consumer that never learnt of a confirmation;
    consumers record it idempotently. 409 `wrong-status` when it is not confirmed."""
    async with engine.begin() as conn:
        events = await enrolments.reannounce(conn, enrolment_id, now=now())
        await tables.audit.record_action(
            conn, staff, StaffAction.ENROLMENT_REANNOUNCE, "enrolment", enrolment_id, events=events
        )
    return Reannounced(enrolment_id=enrolment_id, events=events)
