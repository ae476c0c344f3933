"""The public search's SQL, built once per shape: values are bound per request.

A shape is what changes the statement's text: the sort, which filters are given, whether
a cursor continues a page. Building a statement from SQLAlchemy constructs (columns,
operators, coercions) and then its cache key cost about a fifth of a search's CPU when it
was done at every request; a prebuilt statement memoizes its cache key, so SQLAlchemy
finds its compiled form at once and only the bound values change. The statements render
the same SQL as when built per request (each value its own parameter, with the same type
and cast), so results are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by

from catalogue.domain import OfferingStatus, Status
from catalogue.tables import micro_credential, offering, stack, stack_member

if TYPE_CHECKING:
    from catalogue.search import After, Filters, Sort

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

FAR_FUTURE = date(9999, 12, 31)
"""Where an item with no upcoming offering sorts by next start: last."""

SCHEDULED = OfferingStatus.SCHEDULED.value


@dataclass(frozen=True)
class Shape:
    """What a search's statement depends on besides its values."""

    sort: str
    given: frozenset[str]
    """The names of the filters given (`open_now` counted apart: its value is in the text)."""
    open_now: bool | None
    window: bool
    """`starts_from` or `starts_to` given: an offering must start in that window."""
    continues: bool
    """A cursor: the page starts after a position."""

    @classmethod
    def of(cls, filters: Filters, sort: Sort, after: After | None) -> Shape:
        given = frozenset(
            name
            for name in (*_OPTIONAL, "starts_from", "starts_to")
            if getattr(filters, name) not in (None, "")
        )
        return cls(
            sort.value,
            given,
            filters.open_now,
            bool(filters.starts_from or filters.starts_to),
            after is not None,
        )


_OPTIONAL = (
    "q",
    "category",
    "field_of_study",
    "delivery_mode",
    "language",
    "credit_points_min",
    "credit_points_max",
    "fee_min_cents",
    "fee_max_cents",
    "stack",
)


def values_of(filters: Filters, after: After | None, *, limit: int, at: datetime) -> dict[str, Any]:
    """The values a statement of this search's shape binds."""
    today = at.date()
    window_from = filters.starts_from or today
    values: dict[str, Any] = {
        "limit": limit,
        "window_from": window_from,
        "next_from": max(today, window_from),
        "starts_to": filters.starts_to,
        "page_to": filters.starts_to,
        "summary_to": filters.starts_to,
        "summary_from": max(today, window_from),
        "at_open": at,
        "at_close": at,
        "page_opens": at,
        "page_closes": at,
        "summary_opens": at,
        "summary_closes": at,
        "q": filters.q,
        "q_rank": filters.q,
        "category": filters.category,
        "field_of_study": (filters.field_of_study or "").lower(),
        "delivery_modes": [filters.delivery_mode],
        "language": (filters.language or "").lower(),
        "language_prefix": f"{(filters.language or '').lower()}-%",
        "credit_points_min": filters.credit_points_min,
        "credit_points_max": filters.credit_points_max,
        "fee_min_cents": filters.fee_min_cents,
        "fee_max_cents": filters.fee_max_cents,
        "stack": (filters.stack or "").upper(),
    }
    if after is not None:
        values.update(
            after_title=after.title, after_code=after.code, after_id=after.id, after_key=None
        )
        if after.key:
            (values["after_key"],) = after.key
            values["after_key_again"] = values["after_key"]
    return values


def _query(name: str) -> ColumnElement[Any]:
    """The words sought, folded as the document is (case and accents ignored)."""
    return func.websearch_to_tsquery("english", func.catalogue.fold(bindparam(name, type_=String)))


def _text(name: str) -> Any:
    return bindparam(name, type_=String)


@lru_cache(maxsize=512)
def statement_of(shape: Shape) -> Select[Any]:
    """The search statement of this shape (built once; bounded: shapes are few in use)."""
    given = shape.given
    conditions = _conditions(shape)
    rank = func.ts_rank_cd(mc.c.search_vector, _query("q_rank")) if "q" in given else literal(0.0)
    title = mc.c.folded_title
    keys: dict[str, ColumnElement[Any]] = {
        "relevance": rank,
        "credit_points": mc.c.credit_points,
        "fee": mc.c.fee_cents,
    }
    query = select(
        *(mc.c[name] for name in LISTED),
        rank.label("rank"),
        title.label("folded"),
        *_page_columns("starts_to" in given),
    )
    if shape.sort == "next_start":
        summary = _offering_summary("starts_to" in given).subquery()
        keys["next_start"] = func.coalesce(summary.c.next_start, FAR_FUTURE)
        query = query.select_from(mc.outerjoin(summary, summary.c.micro_credential_id == mc.c.id))
    key = keys.get(shape.sort)
    if key is not None:
        query = query.add_columns(key.label("sort_key"))
    descending = shape.sort == "relevance"
    if shape.continues:
        rest = tuple_(title, mc.c.code, mc.c.id) > tuple_(
            _text("after_title"), _text("after_code"), bindparam("after_id", type_=mc.c.id.type)
        )
        if key is None:
            conditions.append(rest)
        else:
            value, again = (
                bindparam(name, type_=Float() if descending else None)
                for name in ("after_key", "after_key_again")
            )
            beyond = key < value if descending else key > value
            conditions.append(or_(beyond, and_(key == again, rest)))
    ordering = [] if key is None else [key.desc() if descending else key.asc()]
    return (
        query.where(*conditions)
        .order_by(*ordering, title, mc.c.code, mc.c.id)
        .limit(bindparam("limit", type_=Integer))
    )


def _conditions(shape: Shape) -> list[ColumnElement[bool]]:
    given = shape.given
    conditions: list[ColumnElement[bool]] = [mc.c.status == Status.PUBLISHED.value]
    if "q" in given:
        conditions.append(mc.c.search_vector.op("@@")(_query("q")))
    if "category" in given:
        conditions.append(mc.c.category == bindparam("category"))
    if "field_of_study" in given:
        conditions.append(func.lower(mc.c.field_of_study) == _text("field_of_study"))
    if "delivery_mode" in given:
        conditions.append(mc.c.delivery_modes.contains(bindparam("delivery_modes", type_=JSONB)))
    if "language" in given:
        conditions.append(
            or_(
                func.lower(mc.c.language) == _text("language"),
                func.lower(mc.c.language).like(_text("language_prefix")),
            )
        )
    for name, column, above in (
        ("credit_points_min", mc.c.credit_points, True),
        ("credit_points_max", mc.c.credit_points, False),
        ("fee_min_cents", mc.c.fee_cents, True),
        ("fee_max_cents", mc.c.fee_cents, False),
    ):
        if name in given:
            conditions.append(column >= bindparam(name) if above else column <= bindparam(name))
    if shape.open_now is not None:
        is_open = exists().where(
            offering.c.micro_credential_id == mc.c.id,
            offering.c.status == SCHEDULED,
            offering.c.enrolment_opens_at <= bindparam("at_open"),
            offering.c.enrolment_closes_at > bindparam("at_close"),
        )
        conditions.append(is_open if shape.open_now else ~is_open)
    if shape.window:
        conditions.append(exists().where(*_window("starts_to" in given)))
    if "stack" in given:
        conditions.append(
            exists().where(
                stack_member.c.micro_credential_id == mc.c.id,
                stack.c.id == stack_member.c.stack_id,
                stack.c.version == stack_member.c.stack_version,
                stack.c.status == Status.PUBLISHED.value,
                func.upper(stack.c.code) == _text("stack"),
            )
        )
    return conditions


def _window(bounded: bool) -> list[ColumnElement[bool]]:
    window: list[ColumnElement[bool]] = [
        offering.c.micro_credential_id == mc.c.id,
        offering.c.status == SCHEDULED,
        offering.c.starts_on >= bindparam("window_from"),
    ]
    if bounded:
        window.append(offering.c.starts_on <= bindparam("starts_to"))
    return window


def _page_columns(bounded: bool) -> tuple[ColumnElement[Any], ...]:
    """Each listed item's next start, openness and published stacks, as correlated
    subqueries in the search's one statement (instead of three statements): PostgreSQL
    evaluates them after the sort and limit, for the page's rows only."""
    window = [offering.c.starts_on >= bindparam("next_from")]
    if bounded:
        window.append(offering.c.starts_on <= bindparam("page_to"))
    scheduled = (offering.c.micro_credential_id == mc.c.id, offering.c.status == SCHEDULED)
    next_start = select(func.min(offering.c.starts_on)).where(*scheduled, *window)
    is_open = select(
        func.bool_or(
            and_(
                offering.c.enrolment_opens_at <= bindparam("page_opens"),
                offering.c.enrolment_closes_at > bindparam("page_closes"),
            )
        )
    ).where(*scheduled)
    stacks = (
        select(func.array_agg(aggregate_order_by(stack.c.code, stack.c.code)))
        .select_from(published_stacks())
        .where(stack_member.c.micro_credential_id == mc.c.id)
    )
    return (
        next_start.scalar_subquery().label("next_start"),
        is_open.scalar_subquery().label("open_for_enrolment"),
        stacks.scalar_subquery().label("stacks"),
    )


def _offering_summary(bounded: bool) -> Select[Any]:
    """Per micro-credential: its next start date (within the `starts_from`/`starts_to`
    window when the search asks for one) and whether an offering is open now."""
    window = [offering.c.starts_on >= bindparam("summary_from")]
    if bounded:
        window.append(offering.c.starts_on <= bindparam("summary_to"))
    return (
        select(
            offering.c.micro_credential_id,
            func.min(offering.c.starts_on).filter(*window).label("next_start"),
            func.bool_or(
                and_(
                    offering.c.enrolment_opens_at <= bindparam("summary_opens"),
                    offering.c.enrolment_closes_at > bindparam("summary_closes"),
                )
            ).label("open_for_enrolment"),
        )
        .where(offering.c.status == SCHEDULED)
        .group_by(offering.c.micro_credential_id)
    )


def published_stacks() -> Any:
    """Stack memberships joined to their published stacks."""
    return stack_member.join(
        stack,
        (stack.c.id == stack_member.c.stack_id)
        & (stack.c.version == stack_member.c.stack_version)
        & (stack.c.status == Status.PUBLISHED.value),
    )
