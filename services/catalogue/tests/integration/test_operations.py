"""What the reconciler reads of the catalogue, and the re-announcements it asks for."""

from datetime import date, timedelta
from typing import Any

from catalogue import tables
from credstack.testing import ServiceUnderTest, Tokens, staged_events

from .steps import act, offering, publish, schedule


async def pages(catalogue: ServiceUnderTest, tokens: Tokens, path: str) -> list[dict[str, Any]]:
    """Every item of a listing, one item a page (so the cursor is exercised)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        response = await catalogue.http.get(path, params=params, headers=tokens("staff"))
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def publish_stack(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    created = await catalogue.http.post(
        "/stacks",
        json={
            "code": "SUITE-DATA",
            "title": "Data suite",
            "description": "Two data micro-credentials.",
            "kind": "suite",
            "member_codes": ["MC-A", "MC-B"],
        },
        headers=tokens("staff", "staff-proposer"),
    )
    assert created.status_code == 201, created.text
    for action, role in (("submit", "staff"), ("approve", "approver"), ("publish", "approver")):
        response = await catalogue.http.post(
            f"/stacks/SUITE-DATA/{action}", headers=tokens(role, f"{role}-x")
        )
        assert response.status_code == 200, response.text


async def test_published_versions_stacks_and_scheduled_offerings_are_listed_for_the_reconciler(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    first = await publish(catalogue, tokens, "MC-A")
    second = await publish(catalogue, tokens, "MC-B")
    await act(catalogue, tokens, "MC-A", "revisions")  # a draft version 2: not listed
    await publish_stack(catalogue, tokens)
    kept = (await schedule(catalogue, tokens, "MC-A")).json()["id"]
    dropped = (await schedule(catalogue, tokens, "MC-B")).json()["id"]
    await catalogue.http.post(
        f"/offerings/{dropped}/cancel", json={"reason": "No convenor"}, headers=tokens("staff")
    )

    versions = await pages(catalogue, tokens, "/admin/published-micro-credentials")
    stacks = await pages(catalogue, tokens, "/admin/published-stacks")
    offerings = await pages(catalogue, tokens, "/admin/offerings")
    learner = await catalogue.http.get("/admin/offerings", headers=tokens("learner"))

    assert sorted((v["code"], v["version"], v["status"]) for v in versions) == [
        ("MC-A", 1, "published"),
        ("MC-B", 1, "published"),
    ]
    assert [(s["code"], s["version"]) for s in stacks] == [("SUITE-DATA", 1)]
    assert sorted(offerings, key=lambda o: o["status"]) == [
        {
            "offering_id": dropped,
            "micro_credential_id": second["id"],
            "micro_credential_version": 1,
            "status": "cancelled",
        },
        {
            "offering_id": kept,
            "micro_credential_id": first["id"],
            "micro_credential_version": 1,
            "status": "scheduled",
        },
    ]
    assert learner.status_code == 403


async def test_a_malformed_cursor_is_refused(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    response = await catalogue.http.get(
        "/admin/offerings", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=tokens("staff")
    )

    assert response.status_code == 400
    assert response.json()["type"].endswith("/malformed-cursor")


async def test_a_version_is_re_announced_as_published_with_a_new_event_id(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    item = await publish(catalogue, tokens, "MC-A")
    path = f"/admin/micro-credentials/{item['id']}/versions/1/re-announce"

    first = await catalogue.http.post(path, headers=tokens("staff"))
    second = await catalogue.http.post(path, headers=tokens("staff"))
    draft = await act(catalogue, tokens, "MC-A", "revisions")
    unpublished = await catalogue.http.post(
        f"/admin/micro-credentials/{item['id']}/versions/{draft.json()['version']}/re-announce",
        headers=tokens("staff"),
    )
    unknown = await catalogue.http.post(
        f"/admin/micro-credentials/{item['id']}/versions/9/re-announce", headers=tokens("staff")
    )

    assert first.json() == {"events": ["credstack.catalogue.MicroCredentialPublished.v1"]}
    assert second.status_code == 200
    assert unpublished.status_code == 409
    assert unpublished.json()["type"].endswith("/wrong-status")
    assert unknown.status_code == 404
    original, again, again_twice = await staged_events(catalogue.engine, tables.outbox)
    assert original["id"] != again["id"] != again_twice["id"]
    assert again["data"] == original["data"] == again_twice["data"]


async def test_a_superseded_version_is_still_re_announced(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    item = await publish(catalogue, tokens, "MC-A")
    for action in ("revisions", "submit", "approve", "publish"):
        assert (await act(catalogue, tokens, "MC-A", action)).status_code in (200, 201)

    response = await catalogue.http.post(
        f"/admin/micro-credentials/{item['id']}/versions/1/re-announce", headers=tokens("staff")
    )

    assert response.status_code == 200
    events = await staged_events(catalogue.engine, tables.outbox)
    assert events[-1]["data"] == events[0]["data"]
    assert events[-1]["data"]["version"] == 1


async def test_a_stack_is_re_announced_as_published(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-A")
    await publish(catalogue, tokens, "MC-B")
    await publish_stack(catalogue, tokens)
    [stack] = await pages(catalogue, tokens, "/admin/published-stacks")

    response = await catalogue.http.post(
        f"/admin/stacks/{stack['stack_id']}/re-announce", headers=tokens("staff")
    )

    assert response.json() == {"events": ["credstack.catalogue.StackPublished.v1"]}
    published = [
        e
        for e in await staged_events(catalogue.engine, tables.outbox)
        if e["type"].endswith("StackPublished.v1")
    ]
    assert len(published) == 2 and published[0]["data"] == published[1]["data"]
    assert published[0]["id"] != published[1]["id"]


async def test_an_offering_is_re_announced_with_its_current_schedule(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-A")
    offering_id = (await schedule(catalogue, tokens, "MC-A")).json()["id"]
    later = offering(
        starts_on=(date.today() + timedelta(days=90)).isoformat(),
        ends_on=(date.today() + timedelta(days=120)).isoformat(),
    )
    await catalogue.http.patch(
        f"/offerings/{offering_id}",
        json={k: later[k] for k in ("starts_on", "ends_on")}
        | {k: later[k] for k in ("enrolment_opens_at", "enrolment_closes_at")}
        | {"capacity": 40},
        headers=tokens("staff"),
    )

    response = await catalogue.http.post(
        f"/admin/offerings/{offering_id}/re-announce", headers=tokens("staff")
    )

    assert response.json() == {"events": ["credstack.catalogue.OfferingScheduled.v1"]}
    events = await staged_events(catalogue.engine, tables.outbox)
    scheduled = [e for e in events if e["type"].endswith("OfferingScheduled.v1")]
    assert len(scheduled) == 2
    first, again = scheduled[0]["data"], scheduled[1]["data"]
    assert (again["starts_on"], again["capacity"]) == (later["starts_on"], 40)
    moved = ("starts_on", "ends_on", "enrolment_opens_at", "enrolment_closes_at", "capacity")
    unchanged = {k: v for k, v in first.items() if k not in moved}
    assert {k: again[k] for k in unchanged} == unchanged


async def test_a_cancelled_offering_is_re_announced_scheduled_then_cancelled(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-A")
    offering_id = (await schedule(catalogue, tokens, "MC-A")).json()["id"]
    await catalogue.http.post(
        f"/offerings/{offering_id}/cancel", json={"reason": "No convenor"}, headers=tokens("staff")
    )
    before = await staged_events(catalogue.engine, tables.outbox)

    response = await catalogue.http.post(
        f"/admin/offerings/{offering_id}/re-announce", headers=tokens("staff")
    )

    assert response.json() == {
        "events": [
            "credstack.catalogue.OfferingScheduled.v1",
            "credstack.catalogue.OfferingCancelled.v1",
        ]
    }
    scheduled, cancelled = (await staged_events(catalogue.engine, tables.outbox))[len(before) :]
    [first] = [e for e in before if e["type"].endswith("OfferingScheduled.v1")]
    assert scheduled["data"] == first["data"]
    assert cancelled["data"]["offering_id"] == offering_id
    assert "announced again" in cancelled["data"]["reason"]
    listed = await pages(catalogue, tokens, "/admin/offerings")
    assert [o["status"] for o in listed] == ["cancelled"]


async def test_an_unknown_offering_is_not_re_announced(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-A")
    offering_id = (await schedule(catalogue, tokens, "MC-A")).json()["id"]
    before = await staged_events(catalogue.engine, tables.outbox)

    unknown = await catalogue.http.post(
        "/admin/offerings/00000000-0000-0000-0000-000000000000/re-announce",
        headers=tokens("staff"),
    )
    by_a_learner = await catalogue.http.post(
        f"/admin/offerings/{offering_id}/re-announce", headers=tokens("learner")
    )

    assert unknown.status_code == 404
    assert by_a_learner.status_code == 403
    assert await staged_events(catalogue.engine, tables.outbox) == before
