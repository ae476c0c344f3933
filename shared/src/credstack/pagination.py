"""One way to page through a list: keyset pagination with an opaque cursor.

A list answers `{"items": [...], "next_cursor": "..."}`; the client passes
`next_cursor` back as `?cursor=` for the next page, until it is null. The cursor
encodes the sort key of the last item sent, so a page never skips or repeats an
item when others are added meanwhile (unlike an offset).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from credstack.refusals import Reason, Refusal

T = TypeVar("T")

CursorValue = str | int | float | bool | None

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first"),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


class MalformedCursor(Refusal):
    code = "malformed-cursor"
    reason = Reason.MALFORMED


def encode_cursor(*values: CursorValue) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *types: type) -> tuple[Any, ...]:
    """The sort key a cursor carries, each value checked against `types` (str, int…).

    Integers outside int64 are refused: they would overflow the database's BIGINT.
    """
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise MalformedCursor("The cursor is not one this API gave out.") from error
    if not isinstance(values, list) or len(values) != len(types):
        raise MalformedCursor("The cursor is not one this API gave out.")
    for value, expected in zip(values, types, strict=True):
        if not isinstance(value, expected) or isinstance(value, bool) is not (expected is bool):
            raise MalformedCursor("The cursor is not one this API gave out.")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise MalformedCursor("The cursor is not one this API gave out.")
    return tuple(values)


def page_of(items: Sequence[T], limit: int, key: Callable[[T], tuple[CursorValue, ...]]) -> Page[T]:
    """The page for `items` fetched with `limit + 1`: the extra item only says there is more."""
    shown = list(items[:limit])
    more = len(items) > limit
    return Page(items=shown, next_cursor=encode_cursor(*key(shown[-1])) if more else None)
