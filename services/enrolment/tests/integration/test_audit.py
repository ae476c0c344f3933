"""Staff decisions on an enrolment are recorded in the audit log, in their own transaction."""

from typing import Any

import pytest

from credstack.testing import ServiceUnderTest, Tokens, audit_entries, fail_after_audit
from enrolment import tables

from .steps import checkout, deliver_webhooks, enrolled, offering, pay, status, view


async def on_enrolments(enrolment: ServiceUnderTest) -> list[dict[str, Any]]:
    """The entries about enrolments (the fixtures publish a declaration first)."""
    entries = await audit_entries(enrolment.engine, tables.audit)
    return [e for e in entries if e["target_type"] == "enrolment"]


async def test_a_withdrawal_is_recorded_with_who_and_why(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=1, fee_cents=0)
    ada = await enrolled(enrolment, tokens, offering_id, "ada")

    withdrawn = await enrolment.http.post(
        f"/enrolments/{ada['id']}/withdraw",
        json={"reason": "changed jobs"},
        headers=tokens("staff", "registrar-1"),
    )

    assert withdrawn.status_code == 200, withdrawn.text
    [entry] = await on_enrolments(enrolment)
    assert (entry["action"], entry["actor"], entry["target_type"], entry["target_id"]) == (
        "enrolment.withdraw",
        "registrar-1",
        "enrolment",
        ada["id"],
    )
    assert entry["reason"] == "changed jobs"
    listed = await enrolment.http.get(
        "/admin/audit", params={"target_id": ada["id"]}, headers=tokens("staff")
    )
    assert [e["action"] for e in listed.json()["items"]] == ["enrolment.withdraw"]


async def test_a_withdrawal_and_its_entry_roll_back_together(
    enrolment: ServiceUnderTest, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    offering_id = await offering(enrolment, capacity=1, fee_cents=0)
    ada = await enrolled(enrolment, tokens, offering_id, "ada")
    inserted = fail_after_audit(monkeypatch, tables.audit)

    failed = await enrolment.http.post(
        f"/enrolments/{ada['id']}/withdraw",
        json={"reason": "changed jobs"},
        headers=tokens("staff"),
    )

    assert failed.status_code == 503
    assert len(inserted) == 1
    assert await on_enrolments(enrolment) == []
    assert await status(enrolment, tokens, ada["id"]) == "confirmed"


async def test_a_refund_is_recorded_and_rolls_back_with_its_entry(
    enrolment: ServiceUnderTest, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    offering_id = await offering(enrolment, capacity=1)
    ada = await enrolled(enrolment, tokens, offering_id, "ada")
    await pay(enrolment, await checkout(enrolment, tokens, ada["id"]))
    await deliver_webhooks(enrolment)

    with monkeypatch.context() as patched:
        fail_after_audit(patched, tables.audit)
        failed = await enrolment.http.post(
            f"/enrolments/{ada['id']}/refund", headers=tokens("staff")
        )
    assert failed.status_code == 503
    assert (await view(enrolment, tokens, ada["id"]))["payment"]["refund_requested_at"] is None
    assert await on_enrolments(enrolment) == []

    refunded = await enrolment.http.post(
        f"/enrolments/{ada['id']}/refund",
        json={"reason": "course cancelled by the learner's employer"},
        headers=tokens("staff", "bursar"),
    )

    assert refunded.status_code == 202
    [entry] = await on_enrolments(enrolment)
    assert (entry["action"], entry["actor"], entry["target_id"]) == (
        "enrolment.refund",
        "bursar",
        ada["id"],
    )
    assert entry["reason"] == "course cancelled by the learner's employer"
