"""Moderation, integrity findings and LMS client registration are recorded in the audit
log, in the action's own transaction."""

from typing import Any

import pytest

from assessment import tables
from credstack.testing import audit_entries, fail_after_audit

from .conftest import Cohort

LMS = "lms-native"


async def entries(cohort: Cohort, *actions: str) -> list[dict[str, Any]]:
    found = await audit_entries(cohort.service.engine, tables.audit)
    return [e for e in found if e["action"] in actions]


async def test_a_registration_is_recorded_without_its_secret(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    await cohort.register(LMS, "native", active=False)

    registered, changed = await entries(cohort, "lms-client.register", "lms-client.change")
    assert (registered["actor"], registered["target_type"], registered["target_id"]) == (
        "staff-operator",
        "lms-client",
        LMS,
    )
    assert registered["details"] | {"offering_ids": []} == {
        "kind": "native",
        "name": LMS,
        "offering_ids": [],
        "active": True,
        "learner_ids": "lms",
    }
    assert changed["details"]["active"] is False
    assert changed["details"]["secret_replaced"] is False


async def test_a_moderation_is_recorded_with_its_reason(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 84)

    response = await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/moderations",
        json={"action": "regrade", "score": 55, "reason": "Second marker: brief misses LO2"},
        headers=cohort.tokens("staff", "moderator-1"),
    )

    assert response.status_code == 201
    [entry] = await entries(cohort, "result.moderate")
    assert (entry["actor"], entry["target_id"], entry["reason"]) == (
        "moderator-1",
        str(enrolment.enrolment_id),
        "Second marker: brief misses LO2",
    )
    assert entry["details"] == {
        "action": "regrade",
        "score": 55,
        "moderation_id": response.json()["moderation_id"],
    }


async def test_a_finding_and_its_entry_roll_back_together(
    cohort: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 92)
    case = await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/integrity-cases",
        json={"reason": "Contract cheating reported"},
        headers=cohort.staff(),
    )
    finding = {"finding": "misconduct", "note": "Essay bought online"}

    with monkeypatch.context() as patched:
        inserted = fail_after_audit(patched, tables.audit)
        failed = await cohort.http.post(
            f"/integrity-cases/{case.json()['id']}/finding", json=finding, headers=cohort.staff()
        )
    assert failed.status_code == 503 and len(inserted) == 1
    assert await entries(cohort, "integrity-case.finding") == []
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    assert (await cohort.result(enrolment.enrolment_id))["outcome"] == "passed"

    found = await cohort.http.post(
        f"/integrity-cases/{case.json()['id']}/finding", json=finding, headers=cohort.staff()
    )

    assert found.json()["outcome"] == "withdrawn"
    opened, decided = await entries(cohort, "integrity-case.open", "integrity-case.finding")
    assert opened["reason"] == "Contract cheating reported"
    assert (decided["target_id"], decided["reason"], decided["details"]) == (
        case.json()["id"],
        "Essay bought online",
        {"finding": "misconduct"},
    )
