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

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue import search_statement
from catalogue.search_statement import LISTED
from credstack.numbers import plain


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
    next start needs the summary for every match). The statement of each shape (sort, the
    filters given, a cursor or not) is built once (`search_statement`); a request binds
    its values only.
    """
    statement = search_statement.statement_of(search_statement.Shape.of(filters, sort, after))
    values = search_statement.values_of(filters, after, limit=limit, at=at)
    rows = (await conn.execute(statement, values)).all()
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


def _listing(row: Row[*tuple[Any, ...]]) -> Listing:
    # Listing's fields are LISTED's, then next start, openness and stacks (a unit test
    # holds it), and the statement lists LISTED's columns first: read by position, not by
    # name through a new RowMapping (was a tenth of a search's CPU).
    listed = list(row[: len(LISTED)])
    for position in _QUANTITIES:
        listed[position] = plain(listed[position])
    listed += (row.next_start, bool(row.open_for_enrolment), list(row.stacks or []))
    return Listing(*listed)


_QUANTITIES = tuple(LISTED.index(name) for name in ("credit_points", "notional_hours", "cpd_hours"))
