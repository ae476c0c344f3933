"""Operations (scope `platform:operate`): what the reconciler reads of the catalogue and
the repair it asks for: published versions, stacks and offerings, each announced again on
request (new event ids, the same content)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from catalogue import announcements
from catalogue.domain import OfferingStatus, Status
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, MalformedCursor, Page, decode_cursor, page_of
from credstack.service import Engine

router = APIRouter(tags=["operations"])
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="A published version")]


class PublishedVersionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    micro_credential_id: UUID
    version: int
    code: str
    status: Status = Field(description="published, superseded or disestablished")


class PublishedStackView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    stack_id: UUID
    version: int
    code: str


class OfferingView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    status: OfferingStatus


def _id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as error:
        raise MalformedCursor("The cursor is not one this API gave out.") from error


def _version(value: int) -> int:
    if not 0 <= value < 2**31:
        raise MalformedCursor("The cursor is not one this API gave out.")
    return value


class Reannounced(BaseModel):
    events: list[str] = Field(description="The event types staged again (new event ids)")


@router.get(
    "/admin/published-micro-credentials",
    response_model=Page[PublishedVersionView],
    summary="Every micro-credential version ever published, in (id, version) order",
)
async def published_micro_credentials(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[PublishedVersionView]:
    after = decode_cursor(cursor, str, int) if cursor else None
    async with engine.connect() as conn:
        found = await announcements.published_versions(
            conn, after=(_id(after[0]), _version(after[1])) if after else None, limit=limit + 1
        )
    page = page_of(found, limit, lambda v: (str(v.micro_credential_id), v.version))
    return Page(
        items=[PublishedVersionView.model_validate(v) for v in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/admin/published-stacks",
    response_model=Page[PublishedStackView],
    summary="Every published stack, in id order",
)
async def published_stacks(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[PublishedStackView]:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        found = await announcements.published_stacks(
            conn, after=_id(after) if after else None, limit=limit + 1
        )
    page = page_of(found, limit, lambda s: (str(s.stack_id),))
    return Page(
        items=[PublishedStackView.model_validate(s) for s in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/admin/offerings",
    response_model=Page[OfferingView],
    summary="Every offering, scheduled or cancelled, in id order",
)
async def offerings(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[OfferingView]:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        found = await announcements.offerings(
            conn, after=_id(after) if after else None, limit=limit + 1
        )
    page = page_of(found, limit, lambda o: (str(o.offering_id),))
    return Page(
        items=[OfferingView.model_validate(o) for o in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/admin/micro-credentials/{micro_credential_id}/versions/{version}/re-announce",
    response_model=Reannounced,
    summary="Publish a published version's MicroCredentialPublished again, with a new event id",
)
async def reannounce_version(
    micro_credential_id: UUID,
    version: Version,
    engine: Engine,
    _: Principal = require("platform:operate"),
) -> Reannounced:
    """The reconciler's repair for a consumer that never learnt of a version; consumers
    record it idempotently. 409 `wrong-status` for a version never published."""
    async with engine.begin() as conn:
        events = await announcements.reannounce_version(
            conn, micro_credential_id, version, now=now()
        )
    return Reannounced(events=events)


@router.post(
    "/admin/stacks/{stack_id}/re-announce",
    response_model=Reannounced,
    summary="Publish a published stack's StackPublished again, with a new event id",
)
async def reannounce_stack(
    stack_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> Reannounced:
    """409 `wrong-status` for a stack not published."""
    async with engine.begin() as conn:
        events = await announcements.reannounce_stack(conn, stack_id, now=now())
    return Reannounced(events=events)


@router.post(
    "/admin/offerings/{offering_id}/re-announce",
    response_model=Reannounced,
    summary="Publish an offering's OfferingScheduled (and OfferingCancelled) again",
)
async def reannounce_offering(
    offering_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> Reannounced:
    """The reconciler's repair for a consumer that missed an offering's scheduling, a
    rescheduling or its cancellation: OfferingScheduled with its current dates and
    capacity, then, for a cancelled offering, OfferingCancelled (with a reason saying it
    is announced again: the first one's is not kept)."""
    async with engine.begin() as conn:
        events = await announcements.reannounce_offering(conn, offering_id, now=now())
    return Reannounced(events=events)
