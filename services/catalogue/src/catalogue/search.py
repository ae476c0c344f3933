"""The public catalogue's queries: ranked full-text search with filters, and listings.

Only published versions are public. Full text is PostgreSQL's (`websearch_to_tsquery`
over a weighted, generated `search_vector`: code and title first), ranked with
`ts_rank_cd`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue.domain import OfferingStatus, Status
from catalogue.tables import micro_credential, offering, stack, stack_member

mc = micro_credential


class Sort(StrEnum):
    RELEVANCE = "relevance"
    TITLE = "title"
    CREDIT_POINTS = "credit_points"
    FEE = "fee"
    NEXT_START = "next_start"


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    category: str | None = None
    field_of_study: str | None = None
    delivery_mode: str | None = None
    language: str | None = None
    credit_points_min: Decimal | None = None
    credit_points_max: Decimal | None = None
    fee_min_cents: int | None = None
    fee_max_cents: int | None = None
    open_now: bool | None = None
    starts_from: date | None = None
    starts_to: date | None = None
    stack: str | None = None


def _scheduled(at_or_after: date) -> ColumnElement[bool]:
    return and_(
        offering.c.micro_credential_id == mc.c.id,
        offering.c.status == OfferingStatus.SCHEDULED.value,
        offering.c.starts_on >= at_or_after,
    )


def _open(at: datetime) -> ColumnElement[bool]:
    return and_(
        offering.c.micro_credential_id == mc.c.id,
        offering.c.status == OfferingStatus.SCHEDULED.value,
        offering.c.enrolment_opens_at <= at,
        offering.c.enrolment_closes_at > at,
    )


def _conditions(filters: Filters, *, at: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [mc.c.status == Status.PUBLISHED.value]
    if filters.q:
        conditions.append(
            mc.c.search_vector.op("@@")(func.websearch_to_tsquery("english", filters.q))
        )
    if filters.category:
        conditions.append(mc.c.category == filters.category)
    if filters.field_of_study:
        conditions.append(func.lower(mc.c.field_of_study) == filters.field_of_study.lower())
    if filters.delivery_mode:
        conditions.append(mc.c.delivery_modes.contains([filters.delivery_mode]))
    if filters.language:
        language = filters.language.lower()
        conditions.append(
            or_(
                func.lower(mc.c.language) == language,
                func.lower(mc.c.language).like(f"{language}-%"),
            )
        )
    if filters.credit_points_min is not None:
        conditions.append(mc.c.credit_points >= filters.credit_points_min)
    if filters.credit_points_max is not None:
        conditions.append(mc.c.credit_points <= filters.credit_points_max)
    if filters.fee_min_cents is not None:
        conditions.append(mc.c.fee_cents >= filters.fee_min_cents)
    if filters.fee_max_cents is not None:
        conditions.append(mc.c.fee_cents <= filters.fee_max_cents)
    if filters.open_now is not None:
        is_open = exists().where(_open(at))
        conditions.append(is_open if filters.open_now else ~is_open)
    if filters.starts_from or filters.starts_to:
        window: list[ColumnElement[bool]] = [_scheduled(filters.starts_from or at.date())]
        if filters.starts_to:
            window.append(offering.c.starts_on <= filters.starts_to)
        conditions.append(exists().where(*window))
    if filters.stack:
        conditions.append(
            exists().where(
                stack_member.c.micro_credential_id == mc.c.id,
                stack.c.id == stack_member.c.stack_id,
                stack.c.version == stack_member.c.stack_version,
                stack.c.status == Status.PUBLISHED.value,
                func.upper(stack.c.code) == filters.stack.upper(),
            )
        )
    return conditions


async def search(
    conn: AsyncConnection,
    filters: Filters,
    *,
    sort: Sort,
    page: int,
    page_size: int,
    at: datetime,
) -> tuple[list[dict[str, Any]], int]:
    """One page of published micro-credentials matching `filters`, and the total count."""
    conditions = _conditions(filters, at=at)
    next_start = (
        select(func.min(offering.c.starts_on)).where(_scheduled(at.date())).scalar_subquery()
    )
    open_now = exists().where(_open(at))
    rank = (
        func.ts_rank_cd(mc.c.search_vector, func.websearch_to_tsquery("english", filters.q))
        if filters.q
        else literal(0.0)
    )
    orders: dict[Sort, list[Any]] = {
        Sort.RELEVANCE: [rank.desc(), mc.c.title],
        Sort.TITLE: [mc.c.title],
        Sort.CREDIT_POINTS: [mc.c.credit_points, mc.c.title],
        Sort.FEE: [mc.c.fee_cents, mc.c.title],
        Sort.NEXT_START: [next_start.asc().nulls_last(), mc.c.title],
    }
    rows = await conn.execute(
        select(
            mc.c.id,
            mc.c.version,
            mc.c.code,
            mc.c.title,
            mc.c.summary,
            mc.c.category,
            mc.c.field_of_study,
            mc.c.credit_points,
            mc.c.notional_hours,
            mc.c.cpd_hours,
            mc.c.language,
            mc.c.delivery_modes,
            mc.c.fee_cents,
            next_start.label("next_start"),
            open_now.label("open_for_enrolment"),
            rank.label("rank"),
        )
        .where(*conditions)
        .order_by(*orders[sort], mc.c.code)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    total = await conn.scalar(select(func.count()).select_from(mc).where(*conditions))
    items = [dict(row._mapping) for row in rows]
    stacks = await _stack_codes(conn, [item["id"] for item in items])
    for item in items:
        item["stacks"] = stacks.get(item["id"], [])
    return items, int(total or 0)


async def _stack_codes(conn: AsyncConnection, item_ids: list[UUID]) -> dict[UUID, list[str]]:
    if not item_ids:
        return {}
    rows = await conn.execute(
        select(stack_member.c.micro_credential_id, stack.c.code)
        .join(
            stack,
            (stack.c.id == stack_member.c.stack_id)
            & (stack.c.version == stack_member.c.stack_version),
        )
        .where(
            stack_member.c.micro_credential_id.in_(item_ids),
            stack.c.status == Status.PUBLISHED.value,
        )
        .order_by(stack.c.code)
    )
    found: dict[UUID, list[str]] = {}
    for item_id, code in rows:
        found.setdefault(item_id, []).append(code)
    return found


async def stack_codes(conn: AsyncConnection, item_id: UUID) -> list[str]:
    return (await _stack_codes(conn, [item_id])).get(item_id, [])


async def upcoming_offerings(
    conn: AsyncConnection,
    *,
    at: datetime,
    micro_credential_id: UUID | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Scheduled offerings that have not started, soonest first, with their item's code."""
    query = (
        select(
            offering.c.id,
            mc.c.code,
            mc.c.title,
            offering.c.micro_credential_version.label("version"),
            offering.c.starts_on,
            offering.c.ends_on,
            offering.c.enrolment_opens_at,
            offering.c.enrolment_closes_at,
            offering.c.capacity,
            offering.c.delivery_mode,
            offering.c.location,
            offering.c.time_zone,
            offering.c.fee_cents,
            offering.c.convenor,
            and_(offering.c.enrolment_opens_at <= at, offering.c.enrolment_closes_at > at).label(
                "open_for_enrolment"
            ),
        )
        .join(
            mc,
            (mc.c.id == offering.c.micro_credential_id)
            & (mc.c.version == offering.c.micro_credential_version),
        )
        .where(
            offering.c.status == OfferingStatus.SCHEDULED.value, offering.c.starts_on >= at.date()
        )
        .order_by(offering.c.starts_on, mc.c.code)
        .limit(limit)
    )
    if micro_credential_id is not None:
        query = query.where(offering.c.micro_credential_id == micro_credential_id)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def published_stacks(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(stack.c.id, stack.c.code)
        .where(stack.c.status == Status.PUBLISHED.value)
        .order_by(stack.c.code)
    )
    return [dict(row._mapping) for row in rows]
