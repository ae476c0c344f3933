"""The public website API: search, filters, details, stacks, offerings, caching."""

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event

from credstack.pagination import encode_cursor
from credstack.testing import ServiceUnderTest, Tokens

from .steps import act, propose, publish, schedule


async def catalogue_of_four(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    await publish(
        catalogue,
        tokens,
        "MC-DATA-101",
        title="Data Cleaning for Analysts",
        summary="Prepare messy spreadsheets for analysis",
        fee_cents=99000,
    )
    await publish(
        catalogue,
        tokens,
        "MC-LEAD-201",
        title="Leading Teams Through Change",
        summary="Executive leadership in uncertain times",
        description="Leading people when the data is incomplete.",
        alignments=[],
        category="senior-executive-education",
        field_of_study="Management and Commerce",
        fee_cents=250000,
        credit_points="6.25",
        notional_hours="130",
    )
    await publish(
        catalogue,
        tokens,
        "MC-FR-101",
        title="Français professionnel",
        summary="Communication professionnelle en français",
        language="fr",
        description="Rédiger et présenter en français au travail.",
        alignments=[],
        field_of_study="Society and Culture",
        fee_cents=50000,
        delivery_modes=["synchronous-online"],
        online_delivery_approval="AQAC-2026-03",
    )
    await publish(
        catalogue,
        tokens,
        "MC-JP-1",
        title="Japanese for Business, Level 1",
        summary="Everyday business Japanese",
        is_language_micro_credential=True,
        language="ja",
        language_level="A1",
        description="Greetings, meetings and email in Japanese.",
        alignments=[],
        category="personal-development",
        field_of_study="Society and Culture",
        fee_cents=0,
    )
    await propose(catalogue, tokens, "MC-DRAFT-9", title="A draft about data nobody sees")


def codes(response: Any) -> list[str]:
    return [item["code"] for item in response.json()["items"]]


async def test_full_text_search_is_ranked_and_shows_only_published_items(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await catalogue_of_four(catalogue, tokens)

    found = await catalogue.http.get("/micro-credentials", params={"q": "data"})

    assert found.status_code == 200
    assert codes(found) == ["MC-DATA-101", "MC-LEAD-201"]
    assert found.json()["next_cursor"] is None
    assert "MC-DRAFT-9" not in codes(await catalogue.http.get("/micro-credentials"))
    assert codes(
        await catalogue.http.get("/micro-credentials", params={"q": '"leading teams"'})
    ) == ["MC-LEAD-201"]
    assert codes(
        await catalogue.http.get("/micro-credentials", params={"q": "data -leadership"})
    ) == ["MC-DATA-101"]


async def test_filters_narrow_the_catalogue(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    await catalogue_of_four(catalogue, tokens)
    await schedule(catalogue, tokens, "MC-DATA-101")
    await schedule(
        catalogue,
        tokens,
        "MC-LEAD-201",
        starts_on=(date.today() + timedelta(days=200)).isoformat(),
        ends_on=(date.today() + timedelta(days=230)).isoformat(),
        enrolment_opens_at=f"{date.today() + timedelta(days=100)}T00:00:00Z",
        enrolment_closes_at=f"{date.today() + timedelta(days=150)}T00:00:00Z",
    )

    async def search(**params: Any) -> list[str]:
        return codes(await catalogue.http.get("/micro-credentials", params=params))

    assert await search(category="senior-executive-education") == ["MC-LEAD-201"]
    assert await search(field_of_study="society and culture") == ["MC-FR-101", "MC-JP-1"]
    assert await search(delivery_mode="synchronous-online") == ["MC-FR-101"]
    assert await search(language="fr") == ["MC-FR-101"]
    assert await search(credit_points_min="5") == ["MC-LEAD-201"]
    assert await search(fee_max_cents=60000) == ["MC-FR-101", "MC-JP-1"]
    assert await search(fee_min_cents=60000, fee_max_cents=100000) == ["MC-DATA-101"]
    assert await search(open_now="true") == ["MC-DATA-101"]
    assert "MC-DATA-101" not in await search(open_now="false")
    window = {"starts_from": str(date.today()), "starts_to": str(date.today() + timedelta(days=60))}
    assert await search(**window) == ["MC-DATA-101"]
    assert await search(starts_from=str(date.today() + timedelta(days=100))) == ["MC-LEAD-201"]


async def test_sorting_and_pagination(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    await catalogue_of_four(catalogue, tokens)

    by_fee = await catalogue.http.get("/micro-credentials", params={"sort": "fee"})
    first = await catalogue.http.get("/micro-credentials", params={"sort": "fee", "limit": 3})
    cursor = first.json()["next_cursor"]
    page_two = await catalogue.http.get(
        "/micro-credentials", params={"sort": "fee", "limit": 3, "cursor": cursor}
    )
    bad = await catalogue.http.get("/micro-credentials", params={"limit": 1000})

    assert codes(by_fee) == ["MC-JP-1", "MC-FR-101", "MC-DATA-101", "MC-LEAD-201"]
    assert codes(first) == ["MC-JP-1", "MC-FR-101", "MC-DATA-101"] and cursor
    assert codes(page_two) == ["MC-LEAD-201"]
    assert page_two.json()["next_cursor"] is None
    assert bad.status_code == 422
    for wrong in (
        {"sort": "title", "cursor": cursor},  # another sort's cursor
        {"sort": "fee", "cursor": "bm90LWpzb24"},
        {"sort": "fee", "cursor": encode_cursor("fee", 1, "t", "MC-1", "not-a-uuid")},
        {
            "sort": "credit_points",
            "cursor": encode_cursor("credit_points", "NaN", "t", "MC-1", str(uuid4())),
        },
        {
            "sort": "next_start",
            "cursor": encode_cursor("next_start", "2026-13-01", "t", "MC-1", str(uuid4())),
        },
    ):
        refused = await catalogue.http.get("/micro-credentials", params=wrong)
        assert refused.status_code == 400, (wrong, refused.text)
        assert refused.json()["type"].endswith("/malformed-cursor")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "title"},
        {"sort": "fee"},
        {"sort": "credit_points"},
        {"sort": "next_start"},
        {"q": "data"},
        {"q": "leadership or data", "sort": "relevance"},
    ],
)
async def test_every_sort_pages_through_every_match_once_in_order(
    catalogue: ServiceUnderTest, tokens: Tokens, params: dict[str, str]
) -> None:
    await catalogue_of_four(catalogue, tokens)
    for n, fee in enumerate([500, 500, 500, 1000, 1000]):  # ties on the sort key and title
        await publish(
            catalogue,
            tokens,
            f"MC-TIE-{n}",
            title="Data tied" if n < 3 else f"Data tied {n}",
            fee_cents=fee,
        )
    await schedule(catalogue, tokens, "MC-TIE-1")
    await schedule(catalogue, tokens, "MC-DATA-101")
    whole = codes(await catalogue.http.get("/micro-credentials", params={**params, "limit": 100}))
    paged: list[str] = []
    cursor = None
    while True:
        answer = await catalogue.http.get(
            "/micro-credentials",
            params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        assert answer.status_code == 200, answer.text
        paged += codes(answer)
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    assert paged == whole and len(set(paged)) == len(paged) and len(paged) >= 2


async def test_a_language_other_than_english_is_shown_prominently(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await catalogue_of_four(catalogue, tokens)
    listed = await catalogue.http.get("/micro-credentials", params={"language": "fr"})
    detail = await catalogue.http.get("/micro-credentials/MC-FR-101")
    english = await catalogue.http.get("/micro-credentials/MC-DATA-101")

    assert listed.json()["items"][0]["language_of_instruction"]["language"] == "fr"
    assert "other than English" in detail.json()["language_of_instruction"]["notice"]
    assert english.json()["language_of_instruction"] is None


async def test_the_detail_shows_what_the_website_needs_and_nothing_internal(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    await schedule(catalogue, tokens, "MC-DATA-101")

    detail = (await catalogue.http.get("/micro-credentials/mc-data-101")).json()

    assert detail["fee_policy"] == {
        "currency": "AUD",
        "paid_up_front": True,
        "instalments": False,
        "help_or_hecs_eligible": False,
        "cross_institutional_enrolment": False,
    }
    assert detail["upcoming_offerings"][0]["open_for_enrolment"] is True
    assert "proposed_by" not in detail and "warnings" not in detail
    assert (await catalogue.http.get("/micro-credentials/MC-NONE")).status_code == 404


async def test_public_reads_carry_etags_and_answer_304_when_unchanged(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    first = await catalogue.http.get("/micro-credentials/MC-DATA-101")
    etag = first.headers["etag"]

    again = await catalogue.http.get(
        "/micro-credentials/MC-DATA-101", headers={"If-None-Match": etag}
    )
    search = await catalogue.http.get("/micro-credentials", params={"q": "data"})
    search_again = await catalogue.http.get(
        "/micro-credentials",
        params={"q": "data"},
        headers={"If-None-Match": search.headers["etag"]},
    )
    await schedule(catalogue, tokens, "MC-DATA-101")
    changed = await catalogue.http.get(
        "/micro-credentials/MC-DATA-101", headers={"If-None-Match": etag}
    )

    assert first.headers["cache-control"].startswith("public, max-age=")
    assert (again.status_code, again.content) == (304, b"")
    assert search_again.status_code == 304
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_stacks_list_their_members_and_total_points(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    for n in range(1, 5):
        await publish(catalogue, tokens, f"MC-S{n}")
    created = await catalogue.http.post(
        "/stacks",
        json={
            "code": "SERIES-DATA",
            "title": "Data Analytics Series",
            "description": "Four micro-credentials; credit towards the Graduate Certificate.",
            "kind": "series",
            "member_codes": ["MC-S1", "MC-S2", "MC-S3", "MC-S4"],
            "within_months": 36,
            "credit_pathways": [
                {"program": "Graduate Certificate of Data Analytics", "credit_points": "12.5"}
            ],
        },
        headers=tokens("staff", "staff-proposer"),
    )
    assert created.status_code == 201, created.text
    for action, role in (("submit", "staff"), ("approve", "approver"), ("publish", "approver")):
        response = await catalogue.http.post(
            f"/stacks/SERIES-DATA/{action}", headers=tokens(role, f"{role}-x")
        )
        assert response.status_code == 200, response.text

    stack = (await catalogue.http.get("/stacks/SERIES-DATA")).json()
    listed = (await catalogue.http.get("/stacks")).json()["items"]
    members = await catalogue.http.get("/micro-credentials", params={"stack": "series-data"})
    detail = (await catalogue.http.get("/micro-credentials/MC-S2")).json()

    assert stack["credit_points"] == 12.5
    assert [m["code"] for m in stack["members"]] == ["MC-S1", "MC-S2", "MC-S3", "MC-S4"]
    assert all(m["title"] and isinstance(m["credit_points"], int | float) for m in stack["members"])
    assert stack["credit_pathways"][0]["credit_points"] == 12.5
    assert listed == [stack], "the list shows each stack as its own page does"
    assert codes(members) == ["MC-S1", "MC-S2", "MC-S3", "MC-S4"]
    assert detail["stacks"] == ["SERIES-DATA"]


async def test_a_page_of_stacks_takes_the_same_statements_whatever_its_size(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    for n in range(1, 4):
        await publish(catalogue, tokens, f"MC-P{n}")
    for code, member_codes in (("SUITE-A", ["MC-P1", "MC-P2"]), ("SUITE-B", ["MC-P3", "MC-P2"])):
        created = await catalogue.http.post(
            "/stacks",
            json={
                "code": code,
                "title": code,
                "description": code,
                "kind": "suite",
                "member_codes": member_codes,
            },
            headers=tokens("staff", "staff-proposer"),
        )
        assert created.status_code == 201, created.text
        for action, role in (("submit", "staff"), ("approve", "approver"), ("publish", "approver")):
            done = await catalogue.http.post(f"/stacks/{code}/{action}", headers=tokens(role))
            assert done.status_code == 200, done.text
    statements: list[str] = []

    def counted(*arguments: Any) -> None:
        statements.append(arguments[2])

    event.listen(catalogue.engine.sync_engine, "before_cursor_execute", counted)
    try:
        listed = (await catalogue.http.get("/stacks")).json()["items"]
    finally:
        event.remove(catalogue.engine.sync_engine, "before_cursor_execute", counted)
    assert [[m["code"] for m in s["members"]] for s in listed] == [
        ["MC-P1", "MC-P2"],
        ["MC-P3", "MC-P2"],
    ]
    assert len(statements) == 4, statements  # the page's ids, the stacks, members, their items


async def test_a_stack_of_unpublished_items_is_refused(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-S1")
    await propose(catalogue, tokens, "MC-S2")
    await catalogue.http.post(
        "/stacks",
        json={
            "code": "SUITE-X",
            "title": "X",
            "description": "X",
            "kind": "suite",
            "member_codes": ["MC-S1", "MC-S2"],
        },
        headers=tokens("staff"),
    )
    response = await catalogue.http.post("/stacks/SUITE-X/submit", headers=tokens("staff"))
    assert response.status_code == 422
    assert response.json()["breaches"] == ["stack-members: not published: MC-S2"]


async def test_upcoming_offerings_are_listed_soonest_first(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await catalogue_of_four(catalogue, tokens)
    await schedule(
        catalogue,
        tokens,
        "MC-LEAD-201",
        starts_on=(date.today() + timedelta(days=10)).isoformat(),
        ends_on=(date.today() + timedelta(days=20)).isoformat(),
        enrolment_closes_at=f"{date.today() + timedelta(days=5)}T00:00:00Z",
    )
    await schedule(catalogue, tokens, "MC-DATA-101")

    listed = (await catalogue.http.get("/offerings")).json()["items"]

    assert [o["code"] for o in listed] == ["MC-LEAD-201", "MC-DATA-101"]


async def test_interest_is_no_longer_registered_here(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    """Interest is the notifier's (double opt-in, one-click unsubscribe): the catalogue
    keeps no address (docs/notifier.md)."""
    await publish(catalogue, tokens)
    gone = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/interest", json={"email": "a@example.org"}
    )
    assert gone.status_code in (404, 405)
    await act(catalogue, tokens, "MC-DATA-101", "disestablish")


async def test_the_sample_catalogue_loads_once_and_follows_every_rule(
    catalogue: ServiceUnderTest,
) -> None:
    from catalogue import sample_catalogue
    from credstack.clock import now

    assert await sample_catalogue.load(catalogue.engine, now=now()) is True
    assert await sample_catalogue.load(catalogue.engine, now=now()) is False

    everything = (await catalogue.http.get("/micro-credentials", params={"limit": 100})).json()
    stacks = (await catalogue.http.get("/stacks")).json()["items"]
    french = (await catalogue.http.get("/micro-credentials", params={"language": "fr"})).json()
    open_now = (await catalogue.http.get("/micro-credentials", params={"open_now": "true"})).json()

    assert len(everything["items"]) == 20 and everything["next_cursor"] is None
    assert sorted((s["code"], s["kind"], s["credit_points"]) for s in stacks) == [
        ("SERIES-CL", "series", 12.5),
        ("SERIES-DA", "series", 12.5),
        ("SERIES-PP", "series", 12.5),
        ("SUITE-LEAD", "suite", 9.375),
    ]
    assert [i["code"] for i in french["items"]] == ["MC-FR-NEG"]
    assert len(open_now["items"]) == 20
    japanese = (await catalogue.http.get("/micro-credentials/MC-JPN-A1")).json()
    assert japanese["is_language_micro_credential"] and japanese["language_level"] == "A1"


async def test_search_ignores_accents_and_case_and_titles_sort_as_in_a_dictionary(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-NEG-101", title="Négociation interculturelle")
    await publish(catalogue, tokens, "MC-AIE-101", title="AI Ethics")
    await publish(catalogue, tokens, "MC-ADA-101", title="Adaptation Leadership")
    await publish(catalogue, tokens, "MC-ECO-101", title="Économie circulaire")

    found = (await catalogue.http.get("/micro-credentials?q=NEGOCIATION")).json()["items"]
    accented = (await catalogue.http.get("/micro-credentials?q=économie")).json()["items"]
    plain = (await catalogue.http.get("/micro-credentials?q=economie")).json()["items"]
    ordered = (await catalogue.http.get("/micro-credentials?sort=title")).json()["items"]

    assert [i["code"] for i in found] == ["MC-NEG-101"]
    assert [i["code"] for i in accented] == [i["code"] for i in plain] == ["MC-ECO-101"]
    assert [i["title"] for i in ordered] == [
        "Adaptation Leadership",
        "AI Ethics",
        "Économie circulaire",
        "Négociation interculturelle",
    ]


async def test_a_long_bcp47_language_tag_is_kept_and_named(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    tag = "zh-Hans-CN-u-nu-hanidec"  # 23 characters, valid BCP 47
    await publish(catalogue, tokens, "MC-ZH-101", language=tag)
    refused = await propose(catalogue, tokens, "MC-FR-101", language="Français")
    underscore = await propose(catalogue, tokens, "MC-AU-101", language="en_AU")

    (hit,) = (await catalogue.http.get("/micro-credentials?language=zh")).json()["items"]
    item = (await catalogue.http.get("/micro-credentials/MC-ZH-101")).json()

    assert (hit["language"], hit["language_name"]) == (tag, "Chinese (Simplified, China)")
    assert item["language_of_instruction"]["language_name"] == "Chinese (Simplified, China)"
    assert "Chinese (Simplified, China)" in item["language_of_instruction"]["notice"]
    for draft in (refused, underscore):
        assert draft.status_code == 422
        assert ["body", "language"] in [e["location"] for e in draft.json()["errors"]]


async def test_the_next_start_shown_is_within_the_starts_from_window(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    for days in (10, 90):
        response = await schedule(
            catalogue,
            tokens,
            "MC-DATA-101",
            starts_on=(date.today() + timedelta(days=days)).isoformat(),
            ends_on=(date.today() + timedelta(days=days + 20)).isoformat(),
            enrolment_closes_at=f"{date.today() + timedelta(days=days - 2)}T00:00:00Z",
        )
        assert response.status_code == 201, response.text
    later = (date.today() + timedelta(days=60)).isoformat()

    (hit,) = (await catalogue.http.get(f"/micro-credentials?starts_from={later}")).json()["items"]
    (soon,) = (await catalogue.http.get("/micro-credentials")).json()["items"]

    assert hit["next_start"] == (date.today() + timedelta(days=90)).isoformat()
    assert soon["next_start"] == (date.today() + timedelta(days=10)).isoformat()


async def test_the_detail_names_prerequisites_in_the_order_given(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-PRE-B")
    await publish(catalogue, tokens, "MC-PRE-A")
    await publish(catalogue, tokens, "MC-AFTER", prerequisite_codes=["MC-PRE-B", "MC-PRE-A"])

    detail = await catalogue.http.get("/micro-credentials/mc-after")
    missing = await catalogue.http.get("/micro-credentials/MC-NONE")

    assert detail.status_code == 200, detail.text
    assert detail.json()["prerequisite_codes"] == ["MC-PRE-B", "MC-PRE-A"]
    assert detail.json()["stacks"] == [] and detail.json()["code"] == "MC-AFTER"
    assert missing.status_code == 404
