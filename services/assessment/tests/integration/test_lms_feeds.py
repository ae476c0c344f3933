"""LMS feeds beyond the happy path, with Credstack's own samples in the real formats
(../samples/grades/, in the style of ../shared/samples/grades/): formative scores never
decide, learners are mapped by the LMS's identity of them, Caliper entities by IRI, the
Moodle assignment grading event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from .conftest import Cohort, FakeMoodle
from .test_samples import (
    CALIPER_ASSIGNABLE,
    XAPI_ACTIVITY,
    XAPI_CLIENT,
    Sender,
    _prepare,
)

OWN = Path(__file__).resolve().parents[1] / "samples" / "grades"
OWN_MANIFEST = json.loads((OWN / "MANIFEST.json").read_text())


async def send_own(sender: Sender, file: str) -> httpx.Response:
    spec = OWN_MANIFEST[sender.kind]
    headers = {
        "Content-Type": spec["content_type"],
        **spec.get("headers", {}),
        **sender.credentials(None),  # type: ignore[arg-type]
    }
    return await sender.cohort.http.post(
        sender.path, content=(OWN / sender.kind / file).read_bytes(), headers=headers
    )


def own(kind: str, file: str) -> Any:
    return json.loads((OWN / kind / file).read_text())


@pytest.mark.parametrize(
    ("kind", "summative", "formative"),
    [
        (
            "xapi",
            "valid_01_statement_passed.json",
            "formative_01_statement_scored_practice_quiz.json",
        ),
        (
            "caliper",
            "valid_01_envelope_gradeevent_v1p2.json",
            "formative_01_envelope_zero_score_other_assignment_v1p1.json",
        ),
    ],
)
async def test_a_later_formative_score_never_decides_the_result(
    kind: str, summative: str, formative: str, cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    """The issue's case: passed 0.84 on the final quiz, then `scored` 0.2 on a practice
    quiz (a Caliper zero on another assignment): the pass stands, nothing is revoked."""
    enrolment_id = await _prepare(kind, cohort, fake_moodle)
    sender = Sender(kind, cohort)
    assert (await sender.send(summative)).status_code == 200
    assert await cohort.outcome_events() == ["AssessmentPassed"]

    response = await send_own(sender, formative)

    assert response.status_code == 200, response.text
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    result = await cohort.result(enrolment_id)
    assert (result["outcome"], result["score"]) == ("passed", 84)
    first, second = result["grades"]
    assert (first["summative"], second["summative"]) == (True, False)
    assert second["score"] == (20 if kind == "xapi" else 0)
    assert second["note"].startswith("formative:")


async def test_without_a_declared_summative_activity_xapi_scores_wait_for_staff(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    enrolment_id = await _prepare("xapi", cohort, fake_moodle)
    assert (await cohort.declare(XAPI_CLIENT)).status_code == 200  # declaration cleared
    sender = Sender("xapi", cohort)

    assert (await sender.send("valid_01_statement_passed.json")).status_code == 200
    assert await send_own(sender, "formative_01_statement_scored_practice_quiz.json")
    assert await cohort.outcome_events() == []
    (first, _) = (await cohort.result(enrolment_id))["grades"]
    assert first["note"] == (
        "formative: no summative activity is declared for this client and offering"
    )

    declared = await cohort.declare(
        XAPI_CLIENT,
        {"activity": XAPI_ACTIVITY, "summative": True, "outcome_ids": ["LO1", "LO2"]},
        {"activity": "https://moodle.example.ac.uk/mod/quiz/view.php?id=346"},
    )

    assert declared.status_code == 200, declared.text
    assert declared.json()["activities"][0]["activity"] == XAPI_ACTIVITY
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    assert (await cohort.result(enrolment_id))["score"] == 84


async def test_declarations_that_cannot_hold_are_refused(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    await _prepare("caliper", cohort, fake_moodle)
    two = await cohort.declare(
        "canvas-caliper",
        {"activity": CALIPER_ASSIGNABLE, "summative": True},
        {"activity": "https://canvas.example.edu/courses/1742/assignments/5530", "summative": True},
    )
    unknown = await cohort.declare(
        "canvas-caliper", {"activity": CALIPER_ASSIGNABLE, "summative": True, "outcome_ids": ["X"]}
    )
    before = await cohort.http.get(
        f"/lms-clients/canvas-caliper/offerings/{cohort.offering_id}/activities",
        headers=cohort.staff(),
    )

    assert (two.status_code, unknown.status_code) == (422, 422)
    assert "X" in unknown.json()["detail"]
    assert [a["activity"] for a in before.json()["activities"]] == [CALIPER_ASSIGNABLE]


async def test_an_xapi_actor_known_by_mbox_is_mapped_by_its_link(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    await _prepare("xapi", cohort, fake_moodle)
    other = await cohort.confirm()
    await cohort.link(XAPI_CLIENT, "mailto:priya.natarajan@example.ac.uk", other.enrolment_id)

    response = await send_own(Sender("xapi", cohort), "actor_01_statement_passed_by_mbox.json")

    assert response.status_code == 200, response.text
    assert (await cohort.result(other.enrolment_id))["score"] == 90


async def test_a_caliper_envelope_with_entities_by_iri_is_accepted(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    enrolment_id = await _prepare("caliper", cohort, fake_moodle)

    response = await send_own(
        Sender("caliper", cohort), "iri_01_envelope_entities_by_iri_v1p2.json"
    )

    assert response.status_code == 200, response.text
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    (grade,) = (await cohort.result(enrolment_id))["grades"]
    assert (grade["activity"], grade["summative"]) == (CALIPER_ASSIGNABLE, True)


async def test_a_caliper_send_time_not_in_utc_is_refused(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    await _prepare("caliper", cohort, fake_moodle)

    response = await send_own(Sender("caliper", cohort), "invalid_01_sendtime_not_utc.json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["location"] == ["sendTime"]
    assert await cohort.events() == []


async def test_the_moodle_assignment_grading_event_fetches_the_grades(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    enrolment_id = await _prepare("moodle", cohort, fake_moodle)
    notification = own("moodle", "assign_01_webhook_submission_graded.json")

    response = await cohort.http.post("/moodle/webhook", json=notification)

    assert response.status_code == 200, response.text
    (call,) = fake_moodle.calls
    assert (call["courseid"], call["userid"]) == ("12", "1047")
    assert await cohort.outcome_events() == ["AssessmentFailed"]  # course total 40.5
    assert [g["activity"] for g in (await cohort.result(enrolment_id))["grades"]] == ["course"]


async def test_a_moodle_item_grade_is_formative_unless_declared_summative(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    """user_graded names grade item 88 (the assignment, 42/50); the course total is 40.5."""
    enrolment_id = await _prepare("moodle", cohort, fake_moodle)

    assert (
        await Sender("moodle", cohort).send("valid_01_webhook_core_user_graded.json")
    ).status_code == 200
    grades = (await cohort.result(enrolment_id))["grades"]
    assert [(g["activity"], g["summative"]) for g in grades] == [("course", True), ("88", False)]
    assert await cohort.outcome_events() == ["AssessmentFailed"]

    await cohort.declare("moodle-main", {"activity": "88", "summative": True})

    assert await cohort.outcome_events() == ["AssessmentFailed", "AssessmentPassed"]
    assert (await cohort.result(enrolment_id))["score"] == 84


async def test_a_moodle_client_without_a_web_service_token_is_refused(cohort: Cohort) -> None:
    response = await cohort.http.put(
        "/lms-clients/moodle-other",
        json={
            "kind": "moodle",
            "name": "Moodle without a token",
            "offering_ids": [str(cohort.offering_id)],
            "moodle_url": "https://moodle.example.ac.uk",
        },
        headers=cohort.tokens("staff", "staff-operator"),
    )

    assert response.status_code == 422
    assert "ASSESSMENT_MOODLE_WS_TOKENS" in response.json()["detail"]
    listed = await cohort.http.get("/lms-clients", headers=cohort.tokens("staff"))
    assert listed.json()["items"] == []


async def test_failing_moodle_fetches_are_listed_for_staff_with_the_last_error(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    await _prepare("moodle", cohort, fake_moodle)
    fake_moodle.down = True

    kept = await Sender("moodle", cohort).send("valid_01_webhook_core_user_graded.json")
    listed = await cohort.http.get("/moodle-fetches?failing=true", headers=cohort.staff())

    assert kept.status_code == 202
    (pending,) = listed.json()["items"]
    assert (pending["client_id"], pending["course_id"], pending["user_id"]) == (
        "moodle-main",
        12,
        1047,
    )
    assert pending["attempts"] == 1
    assert "503" in pending["last_error"]


ROSTERS = Path(__file__).resolve().parents[1] / "samples" / "rosters"


async def test_a_roster_csv_links_learners_and_maps_their_quarantined_grades(
    cohort: Cohort,
) -> None:
    key = "caliper-sensor-key-roster-1"
    await cohort.register("sensor", "caliper", secret=key)
    await cohort.declare("sensor", {"activity": CALIPER_ASSIGNABLE, "summative": True})
    priya, lee = await cohort.confirm(), await cohort.confirm()
    quarantined = await cohort.http.post(
        "/caliper/events",
        content=Sender("caliper", cohort).request("valid_01_envelope_gradeevent_v1p2.json").body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert quarantined.status_code == 202
    unlinked = await cohort.http.get(
        f"/offerings/{cohort.offering_id}/unlinked-learners?client_id=sensor",
        headers=cohort.staff(),
    )
    assert {u["learner_id"] for u in unlinked.json()["items"]} == {
        str(priya.learner_id),
        str(lee.learner_id),
    }

    csv = (
        "subject,learner_id\n"
        f"https://canvas.example.edu/users/20417,{priya.learner_id}\n"
        f"https://canvas.example.edu/users/20418,{uuid4()}\n"
        "https://canvas.example.edu/users/20419,not-a-uuid\n"
    )
    response = await cohort.http.post(
        f"/lms-clients/sensor/offerings/{cohort.offering_id}/roster",
        content=csv.encode(),
        headers={**cohort.staff(), "Content-Type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["linked"] == [
        {
            "subject": "https://canvas.example.edu/users/20417",
            "enrolment_id": str(priya.enrolment_id),
        }
    ]
    assert [(r["line"], r["reason"].split(" ")[-1]) for r in report["not_linked"]] == [
        (3, "here"),
        (4, "UUID"),
    ]
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    unlinked = await cohort.http.get(
        f"/offerings/{cohort.offering_id}/unlinked-learners?client_id=sensor",
        headers=cohort.staff(),
    )
    assert [u["learner_id"] for u in unlinked.json()["items"]] == [str(lee.learner_id)]


async def test_an_nrps_membership_links_the_active_learners_it_can(cohort: Cohort) -> None:
    await cohort.register(
        "canvas-ags", "lti", lti_issuer="https://canvas.example.edu", lti_deployment_id="1"
    )
    priya = await cohort.confirm()
    container = json.loads((ROSTERS / "nrps_01_membership_container.json").read_text())
    container["members"][0]["lis_person_sourcedid"] = str(priya.learner_id)

    response = await cohort.http.post(
        f"/lms-clients/canvas-ags/offerings/{cohort.offering_id}/roster",
        json=container,
        headers={
            **cohort.staff(),
            "Content-Type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
        },
    )
    wrong_type = await cohort.http.post(
        f"/lms-clients/canvas-ags/offerings/{cohort.offering_id}/roster",
        content=b"<roster/>",
        headers={**cohort.staff(), "Content-Type": "application/xml"},
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["linked"] == [
        {"subject": "5f2c9e1a-8b3d-4c7e-9a61-2d4f7b0e3c58", "enrolment_id": str(priya.enrolment_id)}
    ]
    (skipped,) = report["not_linked"]  # the instructor and the inactive member are left out
    assert skipped["subject"] == "c8e2f3a4-1b5c-4d6e-9f0a-b1c2d3e4f5a6"
    assert wrong_type.status_code == 415


async def test_a_service_without_allowed_origins_answers_no_cross_origin_request(
    cohort: Cohort,
) -> None:
    """CORS is only where configured (the catalogue): the assessment API stays closed."""
    preflight = await cohort.http.options(
        "/lms-clients",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
