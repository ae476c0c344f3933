"""The public catalogue the website calls: search, details, stacks, offerings, interest.

Every read carries an ETag and Cache-Control and answers 304 to a matching
If-None-Match; none needs a token.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue import repository, search, usecases
from catalogue.api import codes_of, problem
from catalogue.domain import CatalogueError, Status
from catalogue.views import (
    Category,
    DeliveryMode,
    Interest,
    PublicMicroCredential,
    StackView,
    language_notice,
)
from credstack.caching import cached_json
from credstack.clock import now
from credstack.problems import Problem
from credstack.service import Engine

router = APIRouter(tags=["public catalogue"])

PUBLIC_STATUSES = (Status.PUBLISHED, Status.DISESTABLISHED, Status.SUPERSEDED)


@router.get(
    "/micro-credentials",
    summary="Search the published micro-credentials",
    description=(
        "Full text (ranked) over code, title, summary, description, learning outcomes and "
        "skills, with filters, sorting and pagination. `open_now`: an offering takes "
        "enrolments now; `starts_from`/`starts_to`: an offering starts in that window."
    ),
)
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
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    if starts_from and starts_to and starts_to < starts_from:
        raise Problem(422, "invalid-range", "starts_to is before starts_from.")
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
    async with engine.connect() as conn:
        items, total = await search.search(
            conn, filters, sort=order, page=page, page_size=page_size, at=now()
        )
    for item in items:
        item["language_of_instruction"] = language_notice(item["language"])
        item.pop("rank")
    return cached_json(
        request, {"items": items, "total": total, "page": page, "page_size": page_size}
    )


async def _public_view(conn: AsyncConnection, code: str) -> PublicMicroCredential:
    item = await repository.by_code(conn, code)
    if item is None or item.status not in PUBLIC_STATUSES:
        raise Problem(404, "not-found", f"No published micro-credential with code {code}.")
    base = PublicMicroCredential.of(
        item,
        prerequisite_codes=await codes_of(conn, item.prerequisites),
        stacks=await search.stack_codes(conn, item.id),
    )
    offerings = (
        await search.upcoming_offerings(conn, at=now(), micro_credential_id=item.id)
        if item.status is Status.PUBLISHED
        else []
    )
    return base.model_copy(update={"upcoming_offerings": offerings})


@router.get(
    "/micro-credentials/{code}",
    response_model=PublicMicroCredential,
    summary="A micro-credential's details",
)
async def detail(code: str, request: Request, engine: Engine) -> Response:
    async with engine.connect() as conn:
        found = await _public_view(conn, code)
    body = found.model_dump(
        mode="json", exclude={"proposed_by", "approved_by", "warnings", "review_due_on"}
    )
    return cached_json(request, body)


@router.get("/stacks", summary="Published stacks with their members and total credit points")
async def stacks(request: Request, engine: Engine) -> Response:
    async with engine.connect() as conn:
        found = [
            StackView.of(item)
            for row in await search.published_stacks(conn)
            if (item := await repository.get_stack(conn, row["id"])) is not None
        ]
    return cached_json(request, [s.model_dump(mode="json") for s in found])


@router.get(
    "/stacks/{code}", response_model=StackView, summary="A stack, its members and total points"
)
async def stack_detail(code: str, request: Request, engine: Engine) -> Response:
    async with engine.connect() as conn:
        stack_id = await repository.stack_id_of_code(conn, code)
        item = await repository.get_stack(conn, stack_id) if stack_id else None
    if item is None or item.status is not Status.PUBLISHED:
        raise Problem(404, "not-found", f"No published stack with code {code}.")
    return cached_json(request, StackView.of(item).model_dump(mode="json"))


@router.get("/offerings", summary="Upcoming offerings, soonest first")
async def offerings(
    request: Request,
    engine: Engine,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    async with engine.connect() as conn:
        found = await search.upcoming_offerings(conn, at=now(), limit=limit)
    return cached_json(request, found)


@router.post(
    "/micro-credentials/{code}/interest",
    status_code=202,
    summary="Register interest: be told when an offering opens for enrolment",
)
async def register_interest(code: str, body: Interest, engine: Engine) -> dict[str, Any]:
    try:
        async with engine.begin() as conn:
            await usecases.register_interest(
                conn, code, email=str(body.email), name=body.name, now=now()
            )
    except CatalogueError as error:
        raise problem(error) from error
    return {"code": code, "registered": True}
