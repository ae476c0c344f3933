"""The native grade form over HTTP, the pass rule, and grades racing their confirmation."""

import asyncio
from uuid import uuid4

from credstack.testing import Tokens, deliver

from .conftest import Cohort, confirmed, published, scheduled

LMS = "lms-native"


async def test_a_grade_at_the_pass_mark_passes_a_confirmed_enrolment(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()

    response = await cohort.native(LMS, enrolment.enrolment_id, 70)

    assert response.status_code == 200
    assert response.json()["grades"][0] | {"grade_id": 0} == {
        "grade_id": 0,
        "status": "recorded",
        "enrolment_id": str(enrolment.enrolment_id),
        "outcome": "passed",
        "held": False,
        "note": None,
    }
    events = await cohort.events()
    assert [e["type"].split(".")[2] for e in events] == ["GradeRecorded", "AssessmentPassed"]
    passed = events[1]["data"]
    assert passed["micro_credential_version"] == 1
    assert passed["learner_id"] == str(enrolment.learner_id)
    assert passed["score"] == "70.000"


async def test_a_grade_below_the_pass_mark_fails(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 69.9999)
    assert await cohort.outcome_events() == ["AssessmentFailed"]


async def test_an_undemonstrated_learning_outcome_fails_despite_the_score(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(
        LMS,
        enrolment.enrolment_id,
        95,
        outcomes=[
            {"outcome_id": "LO1", "demonstrated": True},
            {"outcome_id": "LO2", "demonstrated": False},
        ],
    )
    assert await cohort.outcome_events() == ["AssessmentFailed"]


async def test_a_grade_naming_an_outcome_the_item_does_not_have_is_refused(
    cohort: Cohort,
) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()

    response = await cohort.native(
        LMS,
        enrolment.enrolment_id,
        90,
        outcomes=[
            {"outcome_id": "LO1", "demonstrated": True},
            {"outcome_id": "LO9", "demonstrated": True},
        ],
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("/unknown-outcome")
    assert "LO9" in response.json()["detail"]
    assert await cohort.events() == []
    assert (await cohort.result(enrolment.enrolment_id))["grades"] == []


async def test_the_pass_carries_outcomes_and_evidence(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    shown = [
        {"outcome_id": "LO1", "demonstrated": True},
        {"outcome_id": "LO2", "demonstrated": True},
    ]
    await cohort.native(
        LMS, enrolment.enrolment_id, 88, outcomes=shown, evidence=["https://lms.example.edu/s/1"]
    )
    passed = (await cohort.events())[-1]["data"]
    assert passed["outcomes"] == shown
    assert passed["evidence"] == ["https://lms.example.edu/s/1"]


async def test_a_grade_before_confirmation_is_kept_and_decided_when_the_confirmation_arrives(
    assessment: object, tokens: Tokens, cohort: Cohort
) -> None:
    await cohort.register(LMS, "native")
    enrolment_id = uuid4()

    early = await cohort.native(LMS, enrolment_id, 88)

    assert early.status_code == 202
    assert early.json()["grades"][0]["status"] == "kept"
    assert await cohort.events() == []
    await cohort.confirm(enrolment_id)
    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_a_grade_before_both_confirmation_and_pass_rule_is_decided_when_both_are_known(
    cohort: Cohort,
) -> None:
    await cohort.register(LMS, "native")
    item = published()
    enrolment = confirmed(item, cohort.offering_id)

    await cohort.native(LMS, enrolment.enrolment_id, 40)
    await deliver(cohort.service.app, enrolment)
    assert await cohort.outcome_events() == []
    await deliver(cohort.service.app, item)

    assert await cohort.outcome_events() == ["AssessmentFailed"]


async def test_the_same_grade_posted_twice_has_one_effect(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()

    first = await cohort.native(LMS, enrolment.enrolment_id, 90)
    again = await cohort.native(LMS, enrolment.enrolment_id, 90)

    assert again.status_code == 200
    assert again.json()["grades"][0]["status"] == "duplicate"
    assert again.json()["grades"][0]["grade_id"] == first.json()["grades"][0]["grade_id"]
    assert [e["type"].split(".")[2] for e in await cohort.events()] == [
        "GradeRecorded",
        "AssessmentPassed",
    ]


async def test_the_same_confirmation_delivered_twice_decides_once(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = confirmed(cohort.item, cohort.offering_id)
    await cohort.native(LMS, enrolment.enrolment_id, 90)
    event_id = uuid4()

    assert await deliver(cohort.service.app, enrolment, event_id=event_id) == "applied"
    assert await deliver(cohort.service.app, enrolment, event_id=event_id) == "duplicate"

    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_a_provisional_grade_is_recorded_but_decides_nothing(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()

    await cohort.native(LMS, enrolment.enrolment_id, 90, final=False)
    assert await cohort.outcome_events() == []
    recorded = (await cohort.events())[0]["data"]
    assert recorded["final"] is False

    await cohort.native(LMS, enrolment.enrolment_id, 90, final=True)
    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_the_latest_grade_by_the_lms_time_counts_whatever_the_arrival_order(
    cohort: Cohort,
) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()

    await cohort.native(LMS, enrolment.enrolment_id, 85, graded_at="2025-03-14T10:00:00Z")
    await cohort.native(LMS, enrolment.enrolment_id, 30, graded_at="2025-03-10T10:00:00Z")

    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_grades_need_a_registered_lms_client_serving_the_offering(
    cohort: Cohort, tokens: Tokens
) -> None:
    await cohort.register(LMS, "native")
    await cohort.register("lms-elsewhere", "native", offerings=[uuid4()])
    enrolment = await cohort.confirm()
    body = {"enrolment_id": str(enrolment.enrolment_id), "score": 80}

    anonymous = await cohort.http.post("/grades", json=body)
    learner = await cohort.http.post("/grades", json=body, headers=tokens("learner"))
    unnamed = await cohort.http.post("/grades", json=body, headers=tokens("lms", "x"))
    unregistered = await cohort.http.post("/grades", json=body, headers=cohort.lms("lms-ghost"))
    not_serving = await cohort.http.post("/grades", json=body, headers=cohort.lms("lms-elsewhere"))
    out_of_range = await cohort.native(LMS, enrolment.enrolment_id, 180)

    assert [
        r.status_code
        for r in (anonymous, learner, unnamed, unregistered, not_serving, out_of_range)
    ] == [401, 403, 403, 403, 403, 422]
    assert not_serving.json()["type"].endswith("/offering-not-served")
    assert await cohort.events() == []


async def test_a_grade_kept_for_an_enrolment_the_client_does_not_serve_is_quarantined(
    cohort: Cohort,
) -> None:
    await cohort.register("lms-elsewhere", "native", offerings=[uuid4()])
    enrolment_id = uuid4()
    assert (await cohort.native("lms-elsewhere", enrolment_id, 95)).status_code == 202

    await cohort.confirm(enrolment_id)

    assert await cohort.events() == []
    listed = await cohort.http.get("/quarantined-grades", headers=cohort.staff())
    (item,) = listed.json()["items"]
    assert "does not serve offering" in item["note"]


async def test_a_grade_and_its_confirmation_arriving_at_once_are_always_decided(
    cohort: Cohort,
) -> None:
    await cohort.register(LMS, "native")
    enrolments = [confirmed(cohort.item, cohort.offering_id) for _ in range(12)]

    await asyncio.gather(
        *(cohort.native(LMS, e.enrolment_id, 80) for e in enrolments),
        *(deliver(cohort.service.app, e) for e in enrolments),
    )

    assert await cohort.outcome_events() == ["AssessmentPassed"] * 12


async def test_a_grade_posted_to_a_second_offering_uses_that_offerings_rule(
    cohort: Cohort,
) -> None:
    strict = published(pass_mark=90)
    offering = scheduled(strict)
    await deliver(cohort.service.app, strict)
    await deliver(cohort.service.app, offering)
    await cohort.register(LMS, "native", offerings=[cohort.offering_id, offering.offering_id])
    enrolment = confirmed(strict, offering.offering_id)
    await deliver(cohort.service.app, enrolment)

    await cohort.native(LMS, enrolment.enrolment_id, 85)

    assert await cohort.outcome_events() == ["AssessmentFailed"]


async def test_an_idempotency_key_names_one_grade(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    body = {"enrolment_id": str(enrolment.enrolment_id), "score": 90}
    headers = {**cohort.lms(LMS), "Idempotency-Key": "grade-42"}

    first = await cohort.http.post("/grades", json=body, headers=headers)
    retry = await cohort.http.post("/grades", json=body, headers=headers)
    reused = await cohort.http.post("/grades", json={**body, "score": 20}, headers=headers)

    assert (first.status_code, retry.status_code, reused.status_code) == (200, 200, 422)
    assert retry.json()["grades"][0]["status"] == "duplicate"
    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_a_regrade_back_to_an_earlier_score_counts(cohort: Cohort) -> None:
    """Without ids, only a repeat of the latest grade is a duplicate: 80, 60, 80 is a change."""
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()

    for score in (80, 60, 80):
        await cohort.native(LMS, enrolment.enrolment_id, score)

    assert await cohort.outcome_events() == [
        "AssessmentPassed",
        "ResultWithdrawn",
        "AssessmentFailed",
        "AssessmentPassed",
    ]


async def test_a_released_pass_regraded_to_another_pass_is_released_again(
    cohort: Cohort,
) -> None:
    """The issuer then supersedes the credential it issued with the first score."""
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()

    for score in (80, 80, 91):
        await cohort.native(LMS, enrolment.enrolment_id, score, graded_at=None)

    decided = [e for e in await cohort.events() if e["type"].split(".")[2] != "GradeRecorded"]
    assert [(e["type"].split(".")[2], float(e["data"]["score"])) for e in decided] == [
        ("AssessmentPassed", 80),
        ("AssessmentPassed", 91),
    ]
