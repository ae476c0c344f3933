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
from sqlalchemy.dialects.postgresql import aggregate_order_by
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
    so folding stands in for the language's collation; the folded title is stored
    (`folded_title`, `catalogue.fold(title)`) and indexed with each sort key."""
    return mc.c.folded_title


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


FAR_FUTURE = date(9999, 12, 31)
"""Where an item with no upcoming offering sorts by next start: last."""

KEY_TYPES: dict[Sort, tuple[type, ...]] = {
    Sort.RELEVANCE: (float,),
    Sort.TITLE: (),
    Sort.CREDIT_POINTS: (str,),
    Sort.FEE: (int,),
    Sort.NEXT_START: (str,),
}
"""The sort key a search cursor carries before the folded title, the code and the id."""


@dataclass(frozen=True)
class After:
    """Where the previous page ended: its last item's sort key, folded title, code, id."""

    sort: Sort
    key: tuple[Any, ...]
    title: str
    code: str
    id: UUID


@dataclass(frozen=True)
class Hit:
    listing: Listing
    after: After
    """The position just after this item: the next page's cursor when it ends a page."""


async def search(
    conn: AsyncConnection,
    filters: Filters,
    *,
    sort: Sort,
    after: After | None,
    limit: int,
    at: datetime,
) -> list[Hit]:
    """Up to `limit` published micro-credentials matching `filters`, after `after`.

    Keyset pagination on (sort key, folded title, code, id): a page is read from the indexes
    where the sort allows, never counted nor skipped over by offset, in one statement whose
    offering summary and stacks columns are computed for the page's items only (sorting by
    next start needs the summary for every match).
    """
    conditions = _conditions(filters, at=at)
    rank = func.ts_rank_cd(mc.c.search_vector, _query(filters.q)) if filters.q else literal(0.0)
    title = _title_order()
    keys: dict[Sort, ColumnElement[Any]] = {
        Sort.RELEVANCE: rank,
        Sort.CREDIT_POINTS: mc.c.credit_points,
        Sort.FEE: mc.c.fee_cents,
    }
    query = select(
        *(mc.c[name] for name in LISTED),
        rank.label("rank"),
        title.label("folded"),
        *_page_columns(at, filters),
    )
    if sort is Sort.NEXT_START:
        summary = _offering_summary(at, filters.starts_from, filters.starts_to).subquery()
        keys[Sort.NEXT_START] = func.coalesce(summary.c.next_start, FAR_FUTURE)
        query = query.select_from(mc.outerjoin(summary, summary.c.micro_credential_id == mc.c.id))
    key = keys.get(sort)
    if key is not None:
        query = query.add_columns(key.label("sort_key"))
    descending = sort is Sort.RELEVANCE
    if after is not None:
        rest = tuple_(title, mc.c.code, mc.c.id) > tuple_(
            literal(after.title), literal(after.code), literal(after.id, mc.c.id.type)
        )
        if key is None:
            conditions.append(rest)
        else:
            (value,) = after.key
            beyond = key < value if descending else key > value
            conditions.append(or_(beyond, and_(key == value, rest)))
    ordering = [] if key is None else [key.desc() if descending else key.asc()]
    rows = (
        await conn.execute(
            query.where(*conditions).order_by(*ordering, title, mc.c.code, mc.c.id).limit(limit)
        )
    ).all()
    return [
        Hit(_listing(row), After(sort, _cursor_key(sort, row), row.folded, row.code, row.id))
        for row in rows
    ]


def _cursor_key(sort: Sort, row: Any) -> tuple[Any, ...]:
    if sort is Sort.RELEVANCE:
        return (float(row.sort_key),)
    if sort is Sort.CREDIT_POINTS:
        return (str(row.sort_key),)
    if sort is Sort.FEE:
        return (int(row.sort_key),)
    if sort is Sort.NEXT_START:
        return (row.sort_key.isoformat(),)
    return ()


def cursor_values(after: After) -> tuple[Any, ...]:
    """What a search cursor encodes: the sort's name, its key, folded title, code and id."""
    return (after.sort.value, *after.key, after.title, after.code, str(after.id))


def after_of(sort: Sort, values: Sequence[Any]) -> After:
    """The position a cursor's (type-checked) values name; ValueError if they cannot be it."""
    name, *key, title, code, item_id = values
    if name != sort.value:
        raise ValueError("a cursor of another sort")
    parsed: tuple[Any, ...] = tuple(key)
    if sort is Sort.CREDIT_POINTS:
        try:
            points = Decimal(key[0])
        except ArithmeticError as error:  # decimal.InvalidOperation
            raise ValueError("not a number of credit points") from error
        if not points.is_finite():
            raise ValueError("not a number of credit points")
        parsed = (points,)
    elif sort is Sort.NEXT_START:
        parsed = (date.fromisoformat(key[0]),)
    return After(sort, parsed, title, code, UUID(item_id))


def _page_columns(at: datetime, filters: Filters) -> tuple[ColumnElement[Any], ...]:
    """Each listed item's next start, openness and published stacks, as correlated
    subqueries in the search's one statement (instead of three statements): PostgreSQL
    evaluates them after the sort and limit, for the page's rows only."""
    window = [offering.c.starts_on >= max(at.date(), filters.starts_from or at.date())]
    if filters.starts_to is not None:
        window.append(offering.c.starts_on <= filters.starts_to)
    scheduled = (
        offering.c.micro_credential_id == mc.c.id,
        offering.c.status == OfferingStatus.SCHEDULED.value,
    )
    next_start = select(func.min(offering.c.starts_on)).where(*scheduled, *window)
    is_open = select(
        func.bool_or(and_(offering.c.enrolment_opens_at <= at, offering.c.enrolment_closes_at > at))
    ).where(*scheduled)
    stacks = (
        select(func.array_agg(aggregate_order_by(stack.c.code, stack.c.code)))
        .select_from(_published_stacks())
        .where(stack_member.c.micro_credential_id == mc.c.id)
    )
    return (
        next_start.scalar_subquery().label("next_start"),
        is_open.scalar_subquery().label("open_for_enrolment"),
        stacks.scalar_subquery().label("stacks"),
    )


def _listing(row: Row[*tuple[Any, ...]]) -> Listing:
    mapping = row._mapping  # a new RowMapping at each access
    listed = {name: mapping[name] for name in LISTED}
    for quantity in ("credit_points", "notional_hours", "cpd_hours"):
        listed[quantity] = plain(listed[quantity])
    return Listing(
        **listed,
        next_start=row.next_start,
        open_for_enrolment=bool(row.open_for_enrolment),
        stacks=list(row.stacks or []),
    )


def _published_stacks() -> Any:
    return stack_member.join(
        stack,
        (stack.c.id == stack_member.c.stack_id)
        & (stack.c.version == stack_member.c.stack_version)
        & (stack.c.status == Status.PUBLISHED.value),
    )


async def _stack_codes(conn: AsyncConnection, item_ids: list[UUID]) -> dict[UUID, list[str]]:
    if not item_ids:
        return {}
    rows = await conn.execute(
        select(stack_member.c.micro_credential_id, stack.c.code)
        .select_from(_published_stacks())
        .where(stack_member.c.micro_credential_id.in_(item_ids))
        .order_by(stack.c.code)
    )
    found: dict[UUID, list[str]] = {}
    for item_id, code in rows:
        found.setdefault(item_id, []).append(code)
    return found


async def stack_codes(conn: AsyncConnection, item_id: UUID) -> list[str]:
    return (await _stack_codes(conn, [item_id])).get(item_id, [])
