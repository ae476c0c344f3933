"""Release, attendance, moderation, academic integrity, placement and the enrolment's life,
over HTTP and through the consumer path, on the real database."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from credstack.auth import learner_id_for
from credstack.contracts.enrolment import (
    EnrolmentCancelled,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
)
from credstack.testing import Tokens, deliver

from .conftest import NOW, Cohort, confirmed, published, scheduled

LMS = "lms-native"


async def _register(
    cohort: Cohort,
    session: int,
    present: list[Any],
    absent: tuple[Any, ...] = (),
    who: dict[str, str] | None = None,
) -> Any:
    return await cohort.http.put(
        f"/offerings/{cohort.offering_id}/sessions/{session}/attendance",
        json={"present": [str(e) for e in present], "absent": [str(e) for e in absent]},
        headers=who or cohort.staff(),
    )


async def test_attending_without_passing_earns_a_certificate_of_attendance(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    attended, absent = await cohort.confirm(), await cohort.confirm()
    for session in (1, 2, 3, 4):
        response = await _register(cohort, session, [attended.enrolment_id], [absent.enrolment_id])
        assert response.status_code == 200

    await cohort.native(LMS, attended.enrolment_id, 50)
    await cohort.native(LMS, absent.enrolment_id, 50)

    events = [e for e in await cohort.events() if "GradeRecorded" not in e["type"]]
    assert [(e["type"].split(".")[2], e["data"]["enrolment_id"]) for e in events] == [
        ("AttendanceOnlyCompleted", str(attended.enrolment_id)),
        ("AssessmentFailed", str(absent.enrolment_id)),
    ]
    assert events[0]["data"]["sessions_attended"] == 4
    assert events[0]["data"]["sessions_total"] == 5
    result = await cohort.result(attended.enrolment_id)
    assert result["attendance"] == {"attended": 4, "sessions": 5}
    assert result["released_outcome"] == "attendance_only"


async def test_attendance_recorded_after_a_released_fail_turns_it_into_attendance_only(
    cohort: Cohort,
) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 40)
    assert await cohort.outcome_events() == ["AssessmentFailed"]

    for session in (1, 2, 3, 4, 5):
        await _register(cohort, session, [enrolment.enrolment_id])

    assert await cohort.outcome_events() == ["AssessmentFailed", "AttendanceOnlyCompleted"]


async def test_a_register_is_checked_against_the_offering(cohort: Cohort, tokens: Tokens) -> None:
    await cohort.register(LMS, "native")
    await cohort.register("lms-other", "native", offerings=[uuid4()])
    elsewhere = scheduled(cohort.item)
    await deliver(cohort.service.app, elsewhere)
    enrolment = await cohort.confirm()
    stranger = await cohort.confirm()
    await deliver(
        cohort.service.app,
        EnrolmentTransferred(
            enrolment_id=stranger.enrolment_id,
            learner_id=stranger.learner_id,
            from_offering_id=cohort.offering_id,
            to_offering_id=elsewhere.offering_id,
            micro_credential_id=cohort.item.micro_credential_id,
            micro_credential_version=1,
            transferred_at=NOW,
        ),
    )

    beyond = await _register(cohort, 6, [enrolment.enrolment_id])
    both = await _register(cohort, 1, [enrolment.enrolment_id], [enrolment.enrolment_id])
    other_offering = await _register(cohort, 1, [stranger.enrolment_id])
    by_lms = await _register(cohort, 1, [enrolment.enrolment_id], who=cohort.lms(LMS))
    by_other_lms = await _register(cohort, 1, [enrolment.enrolment_id], who=cohort.lms("lms-other"))
    by_learner = await _register(cohort, 1, [enrolment.enrolment_id], who=tokens("learner"))

    assert [
        r.status_code for r in (beyond, both, other_offering, by_lms, by_other_lms, by_learner)
    ] == [
        422,
        422,
        422,
        200,
        403,
        403,
    ]
    listed = await cohort.http.get(
        f"/offerings/{cohort.offering_id}/attendance", headers=cohort.staff()
    )
    assert [(r["session"], r["attended"]) for r in listed.json()["items"]] == [(1, True)]


async def test_a_regrade_after_release_that_fails_a_pass_withdraws_it_with_an_audit_trail(
    cohort: Cohort,
) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 84)

    response = await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/moderations",
        json={"action": "regrade", "score": 55, "reason": "Second marker: brief misses LO2"},
        headers=cohort.tokens("staff", "moderator-1"),
    )

    assert response.status_code == 201
    assert response.json()["outcome"] == "failed"
    events = await cohort.events()
    assert [e["type"].split(".")[2] for e in events][-2:] == ["ResultWithdrawn", "AssessmentFailed"]
    assert "Second marker" in events[-2]["data"]["reason"]
    assert events[-2]["data"]["released_outcome"] == "passed"
    decided = [e for e in events if e["type"].split(".")[2] != "GradeRecorded"]
    assert [e["data"]["sequence"] for e in decided] == [1, 2, 3]  # saved between decisions
    (audit,) = (await cohort.result(enrolment.enrolment_id))["moderations"]
    assert audit | {"id": 0, "moderated_at": ""} == {
        "id": 0,
        "action": "regrade",
        "score": 55,
        "outcome": None,
        "reason": "Second marker: brief misses LO2",
        "moderated_by": "moderator-1",
        "moderated_at": "",
        "outcome_before": "passed",
        "outcome_after": "failed",
    }


async def test_a_moderation_stands_over_later_lms_grades(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 40)
    await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/moderations",
        json={"action": "override", "outcome": "passed", "reason": "Special consideration"},
        headers=cohort.staff(),
    )

    await cohort.native(LMS, enrolment.enrolment_id, 45)

    assert await cohort.outcome_events() == ["AssessmentFailed", "AssessmentPassed"]
    assert (await cohort.result(enrolment.enrolment_id))["outcome"] == "passed"


async def test_moderation_is_for_staff_on_confirmed_enrolments_with_a_coherent_request(
    cohort: Cohort, tokens: Tokens
) -> None:
    enrolment = await cohort.confirm()
    url = f"/enrolments/{enrolment.enrolment_id}/moderations"

    by_lms = await cohort.http.post(
        url, json={"action": "regrade", "score": 80, "reason": "r"}, headers=tokens("lms", "x")
    )
    score_on_override = await cohort.http.post(
        url,
        json={"action": "override", "outcome": "passed", "score": 80, "reason": "r"},
        headers=cohort.staff(),
    )
    no_reason = await cohort.http.post(
        url, json={"action": "regrade", "score": 80, "reason": ""}, headers=cohort.staff()
    )
    unknown = await cohort.http.post(
        f"/enrolments/{uuid4()}/moderations",
        json={"action": "regrade", "score": 80, "reason": "r"},
        headers=cohort.staff(),
    )

    assert [r.status_code for r in (by_lms, score_on_override, no_reason, unknown)] == [
        403,
        422,
        422,
        404,
    ]
    assert await cohort.events() == []


async def test_no_pass_is_released_while_an_integrity_case_is_open(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    opened = await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/integrity-cases",
        json={"reason": "Text-matching flagged 40% similarity"},
        headers=cohort.staff(),
    )
    assert opened.status_code == 201
    second = await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/integrity-cases",
        json={"reason": "again"},
        headers=cohort.staff(),
    )
    assert second.status_code == 409

    held = await cohort.native(LMS, enrolment.enrolment_id, 92)

    assert held.json()["grades"][0] | {"grade_id": 0} == {
        "grade_id": 0,
        "status": "recorded",
        "enrolment_id": str(enrolment.enrolment_id),
        "outcome": "passed",
        "held": True,
        "note": None,
    }
    assert await cohort.outcome_events() == []
    listed = await cohort.http.get("/integrity-cases", headers=cohort.staff())
    assert [c["id"] for c in listed.json()["items"]] == [opened.json()["id"]]

    cleared = await cohort.http.post(
        f"/integrity-cases/{opened.json()['id']}/finding",
        json={"finding": "cleared", "note": "Similarity was the quoted brief"},
        headers=cohort.staff(),
    )

    assert cleared.status_code == 200
    assert cleared.json()["released_outcome"] == "passed"
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    twice = await cohort.http.post(
        f"/integrity-cases/{opened.json()['id']}/finding",
        json={"finding": "misconduct", "note": "changed mind"},
        headers=cohort.staff(),
    )
    assert twice.status_code == 409


async def test_misconduct_withdraws_a_released_pass_and_closes_the_result(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 92)
    case = await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/integrity-cases",
        json={"reason": "Contract cheating reported"},
        headers=cohort.staff(),
    )
    assert await cohort.outcome_events() == ["AssessmentPassed"]

    found = await cohort.http.post(
        f"/integrity-cases/{case.json()['id']}/finding",
        json={"finding": "misconduct", "note": "Essay bought online"},
        headers=cohort.staff(),
    )

    assert found.json()["outcome"] == "withdrawn"
    assert await cohort.outcome_events() == ["AssessmentPassed", "ResultWithdrawn"]
    withdrawn = (await cohort.events())[-1]["data"]
    assert "Essay bought online" in withdrawn["reason"]
    moderation = await cohort.http.post(
        f"/enrolments/{enrolment.enrolment_id}/moderations",
        json={"action": "regrade", "score": 95, "reason": "appeal"},
        headers=cohort.staff(),
    )
    assert moderation.status_code == 409
    await cohort.native(LMS, enrolment.enrolment_id, 99)
    assert await cohort.outcome_events() == ["AssessmentPassed", "ResultWithdrawn"]


async def test_a_learner_sees_their_released_result_only(cohort: Cohort, tokens: Tokens) -> None:
    await cohort.register(LMS, "native")
    enrolment = confirmed(cohort.item, cohort.offering_id).model_copy(
        update={"learner_id": learner_id_for("learner-priya")}
    )
    await deliver(cohort.service.app, enrolment)
    await cohort.native(LMS, enrolment.enrolment_id, 80)
    url = f"/enrolments/{enrolment.enrolment_id}/result"

    own = await cohort.http.get(url, headers=tokens("learner", "learner-priya"))
    someone_elses = await cohort.http.get(url, headers=tokens("learner", "learner-kenji"))

    assert own.json() == {
        "enrolment_id": str(enrolment.enrolment_id),
        "released_outcome": "passed",
        "score": 80,
    }
    assert someone_elses.status_code == 404


async def test_a_cancelled_or_withdrawn_enrolment_gets_no_outcome(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    cancelled, withdrawn = await cohort.confirm(), await cohort.confirm()
    await deliver(
        cohort.service.app,
        EnrolmentCancelled(
            enrolment_id=cancelled.enrolment_id, reason="refunded", cancelled_at=NOW
        ),
    )
    await deliver(
        cohort.service.app,
        EnrolmentWithdrawn(
            enrolment_id=withdrawn.enrolment_id,
            learner_id=withdrawn.learner_id,
            offering_id=cohort.offering_id,
            reason="moved abroad",
            withdrawn_at=NOW,
        ),
    )

    responses = [await cohort.native(LMS, e.enrolment_id, 90) for e in (cancelled, withdrawn)]

    assert [r.status_code for r in responses] == [202, 202]
    assert await cohort.events() == []


async def test_a_transferred_enrolment_is_assessed_by_its_new_offerings_version(
    cohort: Cohort,
) -> None:
    await cohort.register(LMS, "native")
    revised = published(pass_mark=85)
    new_offering = scheduled(revised)
    await deliver(cohort.service.app, revised)
    await deliver(cohort.service.app, new_offering)
    await cohort.register(LMS, "native", offerings=[cohort.offering_id, new_offering.offering_id])
    enrolment = await cohort.confirm()
    await deliver(
        cohort.service.app,
        EnrolmentTransferred(
            enrolment_id=enrolment.enrolment_id,
            learner_id=enrolment.learner_id,
            from_offering_id=cohort.offering_id,
            to_offering_id=new_offering.offering_id,
            micro_credential_id=revised.micro_credential_id,
            micro_credential_version=revised.version,
            transferred_at=NOW,
        ),
    )

    await cohort.native(LMS, enrolment.enrolment_id, 80)

    (failed,) = [e for e in await cohort.events() if "AssessmentFailed" in e["type"]]
    assert failed["data"]["micro_credential_id"] == str(revised.micro_credential_id)


async def test_a_placement_result_is_published_for_enrolment(
    cohort: Cohort, tokens: Tokens
) -> None:
    learner = learner_id_for("learner-kenji")
    body = {
        "learner_id": str(learner),
        "language": "ja",
        "level": "B1",
        "note": "Oral + written test",
    }
    headers = {**cohort.staff(), "Idempotency-Key": "placement-kenji-ja"}

    first = await cohort.http.post("/placements", json=body, headers=headers)
    again = await cohort.http.post("/placements", json=body, headers=headers)
    bad_level = await cohort.http.post(
        "/placements", json={**body, "level": "intermediate"}, headers=cohort.staff()
    )
    bad_language = await cohort.http.post(
        "/placements", json={**body, "language": "japanese!"}, headers=cohort.staff()
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert (bad_level.status_code, bad_language.status_code) == (422, 422)
    (event,) = await cohort.events()
    assert event["type"] == "credstack.assessment.PlacementAssessed.v1"
    assert event["subject"] == str(learner)
    assert (event["data"]["language"], event["data"]["level"]) == ("ja", "B1")
    own = await cohort.http.get(
        f"/learners/{learner}/placements", headers=tokens("learner", "learner-kenji")
    )
    other = await cohort.http.get(
        f"/learners/{learner}/placements", headers=tokens("learner", "learner-x")
    )
    assert [p["level"] for p in own.json()["items"]] == ["B1"]
    assert other.status_code == 404
