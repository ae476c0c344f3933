"""A search hit's JSON written directly is the JSON of the documented model."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import date
from decimal import Decimal
from uuid import uuid4

from catalogue.search import Listing
from catalogue.search_json import hit_json
from catalogue.search_statement import LISTED
from catalogue.views import SearchHit
from credstack.pagination import Page

LISTING = Listing(
    id=uuid4(),
    version=3,
    code="MC-DATA-101",
    title="Data «analytics» — été",
    summary="Ten weeks.",
    category="professional-development",
    field_of_study="Information Technology",
    credit_points=Decimal("2.5"),
    notional_hours=Decimal("65"),
    cpd_hours=Decimal("0.125"),
    language="en",
    delivery_modes=["on-campus", "synchronous-online"],
    fee_cents=150000,
    next_start=date(2027, 2, 1),
    open_for_enrolment=True,
    stacks=["SERIES-A", "SERIES-B"],
)


def test_a_hit_is_written_as_the_model_writes_it() -> None:
    listings = [
        LISTING,
        replace(LISTING, language="fr-CA", next_start=None, stacks=[], delivery_modes=[]),
        replace(LISTING, language="zh-Hant-TW", credit_points=Decimal("10"), cpd_hours=Decimal(0)),
        replace(LISTING, language="mi", open_for_enrolment=False, fee_cents=0),
    ]
    for listing in listings:
        modelled = SearchHit.of(listing).model_dump(mode="json")
        written = hit_json(listing)
        assert json.dumps(written, ensure_ascii=False) == json.dumps(modelled, ensure_ascii=False)

    page = Page[SearchHit](items=[SearchHit.of(x) for x in listings], next_cursor="abc")
    direct = {"items": [hit_json(x) for x in listings], "next_cursor": "abc"}
    assert json.dumps(direct) == json.dumps(page.model_dump(mode="json"))


def test_a_listing_has_the_statements_columns_first_in_order() -> None:
    """`search._listing` reads a row's first columns by position into these fields."""
    names = [field.name for field in fields(Listing)]
    assert names == [*LISTED, "next_start", "open_for_enrolment", "stacks"]
