"""Staff actions are recorded in the audit log, in the action's own transaction, and staff
list and export them (the routes are shared by every service: credstack.auditapi)."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalogue import tables
from credstack import auditapi
from credstack.testing import (
    ServiceUnderTest,
    Tokens,
    audit_entries,
    fail_after_audit,
    staged_events,
)

from .steps import APPROVER, PROPOSER, act, propose, publish, schedule


async def listed(
    catalogue: ServiceUnderTest, tokens: Tokens, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    response = await catalogue.http.get("/admin/audit", params=params, headers=tokens("staff"))
    assert response.status_code == 200, response.text
    page = response.json()
    return page["items"], page["next_cursor"]


async def test_each_step_to_publication_is_recorded_with_who_and_what(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)

    entries = await audit_entries(catalogue.engine, tables.audit)
    assert [(e["action"], e["actor"], e["target_type"], e["target_id"]) for e in entries] == [
        ("micro-credential.propose", PROPOSER, "micro-credential", "MC-DATA-101"),
        ("micro-credential.submit", PROPOSER, "micro-credential", "MC-DATA-101"),
        ("micro-credential.approve", APPROVER, "micro-credential", "MC-DATA-101"),
        ("micro-credential.publish", APPROVER, "micro-credential", "MC-DATA-101"),
    ]
    assert entries[3]["details"] == {"version": 1}
    assert entries[3]["actor_roles"] == "approver"
    assert all(datetime.now(UTC) - e["at"] < timedelta(minutes=1) for e in entries)


async def test_an_action_and_its_audit_entry_roll_back_together(
    catalogue: ServiceUnderTest, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await propose(catalogue, tokens)).status_code == 201
    for action in ("submit", "approve"):
        assert (await act(catalogue, tokens, "MC-DATA-101", action)).status_code == 200
    before = await audit_entries(catalogue.engine, tables.audit)

    inserted = fail_after_audit(monkeypatch, tables.audit)
    response = await act(catalogue, tokens, "MC-DATA-101", "publish")

    assert response.status_code == 503
    assert len(inserted) == 1  # the entry was written, then the transaction failed
    assert await audit_entries(catalogue.engine, tables.audit) == before
    assert await staged_events(catalogue.engine, tables.outbox) == []
    current = await catalogue.http.get(
        "/micro-credentials/MC-DATA-101/versions", headers=tokens("staff")
    )
    assert [v["status"] for v in current.json()["items"]] == ["approved"]


async def test_a_refused_action_leaves_no_entry(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    assert (await propose(catalogue, tokens)).status_code == 201

    refused = await act(catalogue, tokens, "MC-DATA-101", "publish")

    assert refused.status_code == 409
    entries = await audit_entries(catalogue.engine, tables.audit)
    assert [e["action"] for e in entries] == ["micro-credential.propose"]


async def test_an_offering_cancelled_is_recorded_with_the_reason(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    offering_id = (await schedule(catalogue, tokens, "MC-DATA-101")).json()["id"]

    cancelled = await catalogue.http.post(
        f"/offerings/{offering_id}/cancel",
        json={"reason": "The convenor is on leave"},
        headers=tokens("staff", "scheduler"),
    )

    assert cancelled.status_code == 200, cancelled.text
    [entry], _ = await listed(catalogue, tokens, action="offering.cancel")
    assert (entry["actor"], entry["target_type"], entry["target_id"], entry["reason"]) == (
        "scheduler",
        "offering",
        offering_id,
        "The convenor is on leave",
    )


async def test_staff_page_through_the_log_newest_first_and_filter_it(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-ONE")
    await publish(catalogue, tokens, "MC-TWO")

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        items, cursor = await listed(catalogue, tokens, **params)
        seen += items
        if cursor is None:
            break
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)
    assert len(seen) == 8
    assert seen[0]["action"] == "micro-credential.publish"
    assert seen[0]["target_id"] == "MC-TWO"

    by_actor, _ = await listed(catalogue, tokens, actor=APPROVER)
    assert {e["action"] for e in by_actor} == {
        "micro-credential.approve",
        "micro-credential.publish",
    }
    by_target, _ = await listed(
        catalogue, tokens, target_type="micro-credential", target_id="MC-ONE"
    )
    assert len(by_target) == 4 and {e["target_id"] for e in by_target} == {"MC-ONE"}
    later, _ = await listed(catalogue, tokens, since=(datetime.now(UTC) + timedelta(1)).isoformat())
    earlier, _ = await listed(
        catalogue, tokens, until=(datetime.now(UTC) - timedelta(1)).isoformat()
    )
    assert later == earlier == []
    naive, _ = await listed(catalogue, tokens, since="2000-01-01T00:00:00", limit=100)
    assert len(naive) == 8  # an instant without an offset is accepted
    for edge in ({"since": "0001-01-01T00:00:00+14:00"}, {"until": "9999-12-31T23:59:59-14:00"}):
        beyond = await catalogue.http.get("/admin/audit", params=edge, headers=tokens("staff"))
        assert beyond.status_code == 422, (edge, beyond.text)  # PostgreSQL cannot hold it
    unknown = await catalogue.http.get(
        "/admin/audit", params={"action": "nonsense"}, headers=tokens("staff")
    )
    assert unknown.status_code == 422


async def test_staff_export_the_selection_as_csv_or_json_lines(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)

    as_csv = await catalogue.http.get(
        "/admin/audit/export", params={"actor": PROPOSER}, headers=tokens("staff")
    )
    as_jsonl = await catalogue.http.get(
        "/admin/audit/export", params={"format": "jsonl"}, headers=tokens("staff")
    )

    assert as_csv.status_code == as_jsonl.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("micro-credential.propose", PROPOSER),
        ("micro-credential.submit", PROPOSER),
    ]
    lines = [json.loads(line) for line in as_jsonl.text.splitlines()]
    assert [line["action"] for line in lines] == [
        "micro-credential.propose",
        "micro-credential.submit",
        "micro-credential.approve",
        "micro-credential.publish",
    ]
    assert lines[3]["details"] == {"version": 1}


async def test_a_csv_export_cell_never_starts_a_formula(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    offering_id = (await schedule(catalogue, tokens, "MC-DATA-101")).json()["id"]
    await catalogue.http.post(
        f"/offerings/{offering_id}/cancel",
        json={"reason": '=HYPERLINK("https://evil.example")'},
        headers=tokens("staff"),
    )

    exported = await catalogue.http.get(
        "/admin/audit/export", params={"action": "offering.cancel"}, headers=tokens("staff")
    )

    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["reason"] == '\'=HYPERLINK("https://evil.example")'


async def test_only_staff_read_the_log(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    for path in ("/admin/audit", "/admin/audit/export"):
        for role in ("approver", "learner"):
            response = await catalogue.http.get(path, headers=tokens(role))
            assert response.status_code == 403, (path, role)
        assert (await catalogue.http.get(path)).status_code == 401


async def test_a_parked_event_replayed_is_recorded(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    event = {
        "specversion": "1.0",
        "id": "7b0f8f56-52c4-4d5c-9a51-6a5f0e1f7d10",
        "type": "credstack.elsewhere.SomethingUnknown.v1",
        "source": "/tests",
        "time": "2026-11-30T12:00:00Z",
        "data": {},
    }
    async with catalogue.engine.begin() as conn:
        parked_id = (
            await conn.execute(
                tables.parked.table.insert()
                .values(
                    topic="enrolment.events",
                    partition=0,
                    offset=41,
                    payload=json.dumps(event),
                    error="boom",
                    parked_at=datetime.now(UTC),
                )
                .returning(tables.parked.table.c.id)
            )
        ).scalar_one()

    replayed = await catalogue.http.post(
        f"/admin/parked-events/{parked_id}/replay", headers=tokens("staff", "operator")
    )

    assert replayed.status_code == 200, replayed.text
    [entry] = await audit_entries(catalogue.engine, tables.audit)
    assert (entry["action"], entry["actor"], entry["target_id"]) == (
        "parked-event.replay",
        "operator",
        str(parked_id),
    )
    assert entry["details"] == {"topic": "enrolment.events", "offset": 41, "outcome": "ignored"}


async def test_an_export_reads_batch_after_batch_until_the_end(
    catalogue: ServiceUnderTest, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish(catalogue, tokens, "MC-ONE")
    await publish(catalogue, tokens, "MC-TWO")
    monkeypatch.setattr(auditapi, "EXPORT_BATCH", 3)

    exported = await catalogue.http.get(
        "/admin/audit/export", params={"format": "jsonl"}, headers=tokens("staff")
    )

    ids = [json.loads(line)["id"] for line in exported.text.splitlines()]
    assert len(ids) == 8 and ids == sorted(ids)
    rows = (
        await catalogue.http.get(
            "/admin/audit/export", params={"target_id": "MC-TWO"}, headers=tokens("staff")
        )
    ).text.splitlines()
    assert len(rows) == 1 + 4


async def test_a_return_to_draft_and_a_retirement_say_why(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    assert (await propose(catalogue, tokens)).status_code == 201
    assert (await act(catalogue, tokens, "MC-DATA-101", "submit")).status_code == 200
    returned = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/return",
        json={"reason": "LO2 needs an assessable verb"},
        headers=tokens("staff", PROPOSER),
    )
    assert returned.status_code == 200, returned.text
    for action in ("submit", "approve", "publish"):
        assert (await act(catalogue, tokens, "MC-DATA-101", action)).status_code == 200

    retired = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/disestablish",
        json={"reason": "Superseded by MC-DATA-201"},
        headers=tokens("approver", APPROVER),
    )

    assert retired.status_code == 200, retired.text
    reasons = {
        e["action"]: e["reason"] for e in await audit_entries(catalogue.engine, tables.audit)
    }
    assert reasons["micro-credential.return"] == "LO2 needs an assessable verb"
    assert reasons["micro-credential.retire"] == "Superseded by MC-DATA-201"
    assert reasons["micro-credential.publish"] is None
