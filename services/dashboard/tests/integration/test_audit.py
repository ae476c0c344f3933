"""The dashboard's own staff action, a parked-event replay, is recorded in its audit log in
the transaction that marks the event replayed (the shared route every service has)."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from credstack.testing import ServiceUnderTest, Tokens, audit_entries, fail_after_audit
from dashboard import tables

UNKNOWN_EVENT = {
    "specversion": "1.0",
    "id": "1d7b9a6e-7f0e-4a3c-9a51-6a5f0e1f7d11",
    "type": "credstack.elsewhere.SomethingUnknown.v1",
    "source": "/tests",
    "time": "2026-11-30T12:00:00Z",
    "data": {},
}


async def parked_event(dashboard: ServiceUnderTest) -> int:
    t = tables.parked.table
    async with dashboard.engine.begin() as conn:
        inserted = await conn.execute(
            t.insert()
            .values(
                topic="issuer.events",
                partition=0,
                offset=7,
                payload=json.dumps(UNKNOWN_EVENT),
                error="boom",
                parked_at=datetime.now(UTC),
                next_retry_at=datetime.now(UTC),
            )
            .returning(t.c.id)
        )
        return int(inserted.scalar_one())


async def parked_row(dashboard: ServiceUnderTest, parked_id: int) -> Any:
    t = tables.parked.table
    async with dashboard.engine.connect() as conn:
        return (await conn.execute(select(t).where(t.c.id == parked_id))).one()


async def test_a_replay_and_its_entry_commit_or_roll_back_together(
    dashboard: ServiceUnderTest, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    parked_id = await parked_event(dashboard)
    path = f"/admin/parked-events/{parked_id}/replay"

    with monkeypatch.context() as patched:
        inserted = fail_after_audit(patched, tables.audit)
        failed = await dashboard.http.post(path, headers=tokens("staff", "operator"))
    assert failed.status_code == 503 and len(inserted) == 1
    assert (await parked_row(dashboard, parked_id)).replayed_at is None
    assert await audit_entries(dashboard.engine, tables.audit) == []

    replayed = await dashboard.http.post(path, headers=tokens("staff", "operator"))

    assert replayed.status_code == 200, replayed.text
    assert (await parked_row(dashboard, parked_id)).replayed_at is not None
    [entry] = await audit_entries(dashboard.engine, tables.audit)
    assert (entry["action"], entry["actor"], entry["target_type"], entry["target_id"]) == (
        "parked-event.replay",
        "operator",
        "parked-event",
        str(parked_id),
    )
    listed = await dashboard.http.get("/admin/audit", headers=tokens("staff"))
    assert [e["id"] for e in listed.json()["items"]] == [entry["id"]]
