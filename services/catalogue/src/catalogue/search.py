"""The public catalogue's queries: ranked full-text search with filters, and listings.

Only published versions are public. Full text is PostgreSQL's (`websearch_to_tsquery`
over a weighted, generated `search_vector`: code and title first), ranked with
`ts_rank_cd`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Select, and_, exists, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue.domain import OfferingStatus, Status
from catalogue.tables import micro_credential, offering, stack, stack_member
from credstack.numbers import plain

mc = micro_credential


LISTED = (
    "id",
    "version",
    "code",
    "title",
    "summary",
    "category",
    "field_of_study",
    "credit_points",
    "notional_hours",
    "cpd_hours",
    "language",
    "delivery_modes",
    "fee_cents",
)


@dataclass(frozen=True)
class Listing:
    """One published micro-credential as a search lists it."""

    id: UUID
    version: int
    code: str
    title: str
    summary: str
    category: str
    field_of_study: str
    credit_points: Decimal
    notional_hours: Decimal
    cpd_hours: Decimal
    language: str
    delivery_modes: list[str]
    fee_cents: int
    next_start: date | None
    open_for_enrolment: bool
    stacks: list[str]


@dataclass(frozen=True)
class Upcoming:
    """A scheduled offering that has not started, with its micro-credential's code."""

    id: UUID
    code: str
    title: str
    version: int
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    delivery_mode: str
    location: str
    time_zone: str
    fee_cents: int
    convenor: str
    open_for_enrolment: bool


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


def _query(q: str) -> ColumnElement[Any]:
    """The words sought, folded as the document is (case and accents ignored)."""
    return func.websearch_to_tsquery("english", func.catalogue.fold(q))


def _title_order() -> ColumnElement[Any]:
    """Titles in dictionary order: case and accents ignored ("Adaptation" before "AI
    Ethics", "Économie" among the e's). The embedded PostgreSQL has no ICU collations,
    so folding stands in for the language's collation."""
    return func.catalogue.fold(mc.c.title)


def _conditions(filters: Filters, *, at: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [mc.c.status == Status.PUBLISHED.value]
    if filters.q:
        conditions.append(mc.c.search_vector.op("@@")(_query(filters.q)))
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


def _offering_summary(
    at: datetime, starts_from: date | None = None, starts_to: date | None = None
) -> Select[Any]:
    """Per micro-credential: its next start date (within the `starts_from`/`starts_to`
    window when the search asks for one) and whether an offering is open now."""
    window = [offering.c.starts_on >= max(at.date(), starts_from or at.date())]
    if starts_to is not None:
        window.append(offering.c.starts_on <= starts_to)
    return (
        select(
            offering.c.micro_credential_id,
            func.min(offering.c.starts_on).filter(*window).label("next_start"),
            func.bool_or(
                and_(offering.c.enrolment_opens_at <= at, offering.c.enrolment_closes_at > at)
            ).label("open_for_enrolment"),
        )
        .where(offering.c.status == OfferingStatus.SCHEDULED.value)
        .group_by(offering.c.micro_credential_id)
    )


async def search(
    conn: AsyncConnection,
    filters: Filters,
    *,
    sort: Sort,
    page: int,
    page_size: int,
    at: datetime,
) -> tuple[list[Listing], int]:
    """One page of published micro-credentials matching `filters`, and the total count.

    The page is chosen first (by index where the sort allows) and the offering summary
    computed for its items only; sorting by next start needs it for every match.
    """
    conditions = _conditions(filters, at=at)
    rank = func.ts_rank_cd(mc.c.search_vector, _query(filters.q)) if filters.q else literal(0.0)
    query = select(*(mc.c[name] for name in LISTED), rank.label("rank"))
    if sort is Sort.NEXT_START:
        summary = _offering_summary(at, filters.starts_from, filters.starts_to).subquery()
        query = query.select_from(
            mc.outerjoin(summary, summary.c.micro_credential_id == mc.c.id)
        ).order_by(summary.c.next_start.asc().nulls_last(), _title_order())
    else:
        orders: dict[Sort, list[Any]] = {
            Sort.RELEVANCE: [rank.desc(), _title_order()],
            Sort.TITLE: [_title_order(), mc.c.title],
            Sort.CREDIT_POINTS: [mc.c.credit_points, _title_order()],
            Sort.FEE: [mc.c.fee_cents, _title_order()],
        }
        query = query.order_by(*orders[sort])
    rows = (
        await conn.execute(
            query.where(*conditions)
            .order_by(mc.c.code)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    total = await conn.scalar(select(func.count()).select_from(mc).where(*conditions))
    return await _listings(conn, rows, at=at, filters=filters), int(total or 0)


async def _listings(
    conn: AsyncConnection,
    rows: Sequence[Row[*tuple[Any, ...]]],
    *,
    at: datetime,
    filters: Filters | None = None,
) -> list[Listing]:
    """The rows of a search page with each item's next start, openness and stacks."""
    ids = [row.id for row in rows]
    summaries = (
        {
            row.micro_credential_id: row
            for row in await conn.execute(
                _offering_summary(
                    at,
                    filters.starts_from if filters else None,
                    filters.starts_to if filters else None,
                ).where(offering.c.micro_credential_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    stacks = await _stack_codes(conn, ids)
    listings = []
    for row in rows:
        summary_row = summaries.get(row.id)
        listed = {name: row._mapping[name] for name in LISTED}
        for quantity in ("credit_points", "notional_hours", "cpd_hours"):
            listed[quantity] = plain(listed[quantity])
        listings.append(
            Listing(
                **listed,
                next_start=summary_row.next_start if summary_row else None,
                open_for_enrolment=bool(summary_row and summary_row.open_for_enrolment),
                stacks=stacks.get(row.id, []),
            )
        )
    return listings


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
    after: tuple[date, str, UUID] | None = None,
    limit: int = 100,
) -> list[Upcoming]:
    """Scheduled offerings that have not started, soonest first, with their item's code,
    after the (start, code, id) `after`."""
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
        .order_by(offering.c.starts_on, mc.c.code, offering.c.id)
        .limit(limit)
    )
    if micro_credential_id is not None:
        query = query.where(offering.c.micro_credential_id == micro_credential_id)
    if after is not None:
        query = query.where(tuple_(offering.c.starts_on, mc.c.code, offering.c.id) > tuple_(*after))
    return [Upcoming(**row._mapping) for row in await conn.execute(query)]


async def published_stacks(
    conn: AsyncConnection, *, after: str | None = None, limit: int
) -> list[UUID]:
    """The ids of published stacks, by code, after the code `after`."""
    query = (
        select(stack.c.id)
        .where(stack.c.status == Status.PUBLISHED.value)
        .order_by(stack.c.code)
        .limit(limit)
    )
    if after is not None:
        query = query.where(stack.c.code > after)
    return list((await conn.execute(query)).scalars())
