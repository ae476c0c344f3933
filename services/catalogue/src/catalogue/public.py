"""The public catalogue the website calls: search, details, stacks, offerings. (Interest
registrations are the notifier's, with double opt-in: docs/notifier.md.)

Every read carries an ETag and Cache-Control and answers 304 to a matching
If-None-Match; none needs a token.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from catalogue import listings, public_reads, repository, search, search_json, usecases
from catalogue.domain import Status
from catalogue.views import (
    Category,
    DeliveryMode,
    PublicMicroCredential,
    SearchHit,
    StackView,
    UpcomingOffering,
)
from credstack import access
from credstack.caching import cached_json
from credstack.clock import now
from credstack.db import autocommit
from credstack.pagination import (
    Cursor,
    Limit,
    MalformedCursor,
    Page,
    decode_cursor,
    encode_cursor,
    page_of,
)
from credstack.refusals import Reason, Refusal
from credstack.service import Engine

router = APIRouter(tags=["public catalogue"])


class InvalidRange(Refusal):
    code = "invalid-range"
    reason = Reason.UNPROCESSABLE


@router.get(
    "/micro-credentials",
    response_model=Page[SearchHit],
    summary="Search the published micro-credentials",
    description=(
        "Full text (ranked) over code, title, summary, description, learning outcomes and "
        "skills, with filters, sorting and cursor pagination (`limit`, then `cursor` = the "
        "previous page's `next_cursor`). `open_now`: an offering takes "
        "enrolments now; `starts_from`/`starts_to`: an offering starts in that window."
    ),
)
@access.public
async def search_micro_credentials(
    request: Request,
    engine: Engine,
    q: Annotated[
        str | None, Query(max_length=200, description='Words, "phrases", -excluded')
    ] = None,
    category: Category | None = None,
    field_of_study: str | None = None,
    delivery_mode: DeliveryMode | None = None,
    language: Annotated[
        str | None, Query(description="Language of instruction, e.g. en, fr")
    ] = None,
    credit_points_min: Annotated[Decimal | None, Query(ge=0)] = None,
    credit_points_max: Annotated[Decimal | None, Query(ge=0)] = None,
    fee_min_cents: Annotated[int | None, Query(ge=0)] = None,
    fee_max_cents: Annotated[int | None, Query(ge=0)] = None,
    open_now: bool | None = None,
    starts_from: date | None = None,
    starts_to: date | None = None,
    stack: Annotated[str | None, Query(description="Stack code")] = None,
    sort: search.Sort | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    # Long on purpose: the signature is the search API's query parameters, each declared
    # once with its validation; the body only maps them to the query.
    if starts_from and starts_to and starts_to < starts_from:
        raise InvalidRange("starts_to is before starts_from.")
    filters = search.Filters(
        q=q.strip() if q and q.strip() else None,
        category=category,
        field_of_study=field_of_study,
        delivery_mode=delivery_mode,
        language=language,
        credit_points_min=credit_points_min,
        credit_points_max=credit_points_max,
        fee_min_cents=fee_min_cents,
        fee_max_cents=fee_max_cents,
        open_now=open_now,
        starts_from=starts_from,
        starts_to=starts_to,
        stack=stack,
    )
    order = sort or (search.Sort.RELEVANCE if filters.q else search.Sort.TITLE)
    after = _search_cursor(cursor, order) if cursor else None
    async with autocommit(engine).connect() as conn:  # one statement
        hits = await search.search(
            conn, filters, sort=order, after=after, limit=limit + 1, at=now()
        )
    shown = hits[:limit]
    found = {  # Page[SearchHit]'s JSON, written directly (search_json)
        "items": [search_json.hit_json(hit.listing) for hit in shown],
        "next_cursor": (
            encode_cursor(*search.cursor_values(shown[-1].after)) if len(hits) > limit else None
        ),
    }
    return cached_json(request, found)


def _search_cursor(cursor: str, sort: search.Sort) -> search.After:
    """The position a search cursor names, for this sort; refused when it is not one."""
    values = decode_cursor(cursor, str, *search.KEY_TYPES[sort], str, str, str)
    try:
        return search.after_of(sort, values)
    except ValueError as error:
        raise MalformedCursor("The cursor is not one this API gave out for this sort.") from error


async def _public_view(engine: AsyncEngine, code: str) -> PublicMicroCredential:
    # Two one-statement reads without a transaction: the item with its prerequisites' and
    # stacks' codes, then its upcoming offerings (a page cached for a minute anyway).
    async with autocommit(engine).connect() as conn:
        found = await public_reads.public_item(conn, code)
        if found is None:
            raise usecases.NotFound(f"No published micro-credential with code {code}.")
        offerings = (
            await listings.upcoming_offerings(conn, at=now(), micro_credential_id=found.item.id)
            if found.item.status is Status.PUBLISHED
            else []
        )
    base = PublicMicroCredential.of(
        found.item, prerequisite_codes=found.prerequisite_codes, stacks=found.stacks
    )
    return base.model_copy(update={"upcoming_offerings": [_upcoming(o) for o in offerings]})


def _upcoming(offering: listings.Upcoming) -> UpcomingOffering:
    return UpcomingOffering.model_validate(offering, from_attributes=True)


@router.get(
    "/micro-credentials/{code}",
    response_model=PublicMicroCredential,
    summary="A micro-credential's details",
)
@access.public
async def detail(code: str, request: Request, engine: Engine) -> Response:
    found = await _public_view(engine, code)
    body = found.model_dump(
        mode="json", exclude={"proposed_by", "approved_by", "warnings", "review_due_on"}
    )
    return cached_json(request, body)


@router.get(
    "/stacks",
    response_model=Page[StackView],
    summary="Published stacks with their members and total credit points, by code",
)
@access.public
async def stacks(
    request: Request, engine: Engine, limit: Limit = 100, cursor: Cursor = None
) -> Response:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        ids = await listings.published_stacks(conn, after=after, limit=limit + 1)
        found = [StackView.of(item) for item in await listings.get_stacks(conn, ids)]
    return cached_json(
        request, page_of(found, limit, key=lambda s: (s.code,)).model_dump(mode="json")
    )


@router.get(
    "/stacks/{code}", response_model=StackView, summary="A stack, its members and total points"
)
@access.public
async def stack_detail(code: str, request: Request, engine: Engine) -> Response:
    async with engine.connect() as conn:
        stack_id = await repository.stack_id_of_code(conn, code)
        item = await repository.get_stack(conn, stack_id) if stack_id else None
    if item is None or item.status is not Status.PUBLISHED:
        raise usecases.NotFound(f"No published stack with code {code}.")
    return cached_json(request, StackView.of(item).model_dump(mode="json"))


def _offering_cursor(cursor: str | None) -> tuple[date, str, UUID] | None:
    if cursor is None:
        return None
    starts_on, code, offering_id = decode_cursor(cursor, str, str, str)
    try:
        return date.fromisoformat(starts_on), code, UUID(offering_id)
    except ValueError as error:
        raise MalformedCursor("The cursor is not one this API gave out.") from error


@router.get(
    "/offerings", response_model=Page[UpcomingOffering], summary="Upcoming offerings, soonest first"
)
@access.public
async def offerings(
    request: Request, engine: Engine, limit: Limit = 100, cursor: Cursor = None
) -> Response:
    async with engine.connect() as conn:
        found = await listings.upcoming_offerings(
            conn, at=now(), after=_offering_cursor(cursor), limit=limit + 1
        )
    page = page_of(
        [_upcoming(o) for o in found], limit, key=lambda o: (str(o.starts_on), o.code, str(o.id))
    )
    return cached_json(request, page.model_dump(mode="json"))
