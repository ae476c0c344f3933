"""Grade intake in the standard formats over HTTP: credentials, mapping, retries, Moodle."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select, update

from assessment import gradebook, tables
from credstack.testing import deliver

from .conftest import MOODLE_CLIENT, Cohort, FakeMoodle, confirmed, scheduled

SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples" / "grades"
SCORE = "application/vnd.ims.lis.v1.score+json"
USER = "5f2c9e1a-8b3d-4c7e-9a61-2d4f7b0e3c58"


def sample(path: str) -> Any:
    return json.loads((SAMPLES / path).read_text())


async def _lti(cohort: Cohort) -> Any:
    await cohort.register(
        "canvas", "lti", lti_issuer="https://canvas.example.edu", lti_deployment_id="1"
    )
    enrolment = await cohort.confirm()
    await cohort.link("canvas", USER, enrolment.enrolment_id)
    return enrolment


async def _score(cohort: Cohort, body: dict[str, Any], client: str = "canvas") -> Any:
    return await cohort.http.post(
        f"/lti/offerings/{cohort.offering_id}/lineitem/scores",
        content=json.dumps(body),
        headers={**cohort.lms(client), "Content-Type": SCORE},
    )


async def test_an_ags_retry_of_the_same_score_is_accepted_once_and_a_stale_one_refused(
    cohort: Cohort,
) -> None:
    await _lti(cohort)
    first = sample("lti_ags/valid_01_score_fully_graded.json")

    assert (await _score(cohort, first)).status_code == 200
    retry = await _score(cohort, first)
    older = await _score(cohort, {**first, "scoreGiven": 10, "timestamp": "2025-03-13T09:00:00Z"})

    assert retry.status_code == 200
    assert retry.json()["grades"][0]["status"] == "duplicate"
    assert older.status_code == 409
    assert older.json()["type"].endswith("/stale-score")
    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_an_ags_pending_score_waits_for_the_fully_graded_one(cohort: Cohort) -> None:
    enrolment = await _lti(cohort)
    pending = sample("lti_ags/valid_02_score_submitted_pending_manual.json")
    graded = {
        **sample("lti_ags/valid_01_score_fully_graded.json"),
        "timestamp": "2025-03-15T08:00:00Z",
    }

    assert (await _score(cohort, pending)).status_code == 200
    assert await cohort.events() == []
    assert (await _score(cohort, graded)).status_code == 200

    assert await cohort.outcome_events() == ["AssessmentPassed"]
    assert [g["final"] for g in (await cohort.result(enrolment.enrolment_id))["grades"]] == [
        False,
        True,
    ]


async def test_an_ags_score_clearing_the_grade_stops_an_undecided_result(cohort: Cohort) -> None:
    """A newer update without scoreGiven clears the score: nothing is decided from the
    older one (here the enrolment is confirmed only after both arrived)."""
    await cohort.register(
        "canvas", "lti", lti_issuer="https://canvas.example.edu", lti_deployment_id="1"
    )
    enrolment_id = uuid4()
    await cohort.link("canvas", USER, enrolment_id)
    await _score(cohort, sample("lti_ags/valid_01_score_fully_graded.json"))
    await _score(
        cohort,
        {
            **sample("lti_ags/valid_02_score_submitted_pending_manual.json"),
            "timestamp": "2025-03-15T00:00:00Z",
        },
    )

    await cohort.confirm(enrolment_id)

    assert await cohort.outcome_events() == []


async def test_ags_needs_its_media_type_and_the_offering_served(cohort: Cohort) -> None:
    await _lti(cohort)
    await cohort.register("other", "native", offerings=[uuid4()])
    body = json.dumps(sample("lti_ags/valid_01_score_fully_graded.json"))
    url = f"/lti/offerings/{cohort.offering_id}/lineitem/scores"

    as_json = await cohort.http.post(
        url, content=body, headers={**cohort.lms("canvas"), "Content-Type": "application/json"}
    )
    not_served = await cohort.http.post(
        url, content=body, headers={**cohort.lms("other"), "Content-Type": SCORE}
    )
    line_item = await cohort.http.get(
        f"/lti/offerings/{cohort.offering_id}/lineitem", headers=cohort.lms("canvas")
    )

    assert (as_json.status_code, not_served.status_code) == (415, 403)
    assert line_item.headers["content-type"] == "application/vnd.ims.lis.v2.lineitem+json"
    assert line_item.json()["scoreMaximum"] == 100
    assert line_item.json()["id"].endswith(f"/lti/offerings/{cohort.offering_id}/lineitem")


async def test_an_ags_user_with_no_roster_link_is_quarantined_then_decided_when_linked(
    cohort: Cohort,
) -> None:
    await cohort.register(
        "canvas", "lti", lti_issuer="https://canvas.example.edu", lti_deployment_id="1"
    )
    enrolment = await cohort.confirm()

    held = await _score(cohort, sample("lti_ags/valid_01_score_fully_graded.json"))
    assert held.status_code == 202
    assert held.json()["grades"][0]["status"] == "quarantined"
    assert await cohort.events() == []

    linked = await cohort.http.post(
        "/roster-links",
        json={
            "subject": USER,
            "offering_id": str(cohort.offering_id),
            "enrolment_id": str(enrolment.enrolment_id),
        },
        headers=cohort.lms("canvas"),
    )
    assert linked.status_code == 201
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    listed = await cohort.http.get("/quarantined-grades", headers=cohort.staff())
    assert listed.json()["items"] == []


async def test_a_learner_in_two_offerings_is_told_apart_by_the_lms_course(cohort: Cohort) -> None:
    other = scheduled(cohort.item, lms_course_ref="https://canvas.example.edu/courses/9999")
    main = scheduled(cohort.item, lms_course_ref="https://canvas.example.edu/courses/1742")
    await deliver(cohort.service.app, other)
    await deliver(cohort.service.app, main)
    key = "caliper-sensor-key-00000001"
    await cohort.register(
        "sensor", "caliper", offerings=[main.offering_id, other.offering_id], secret=key
    )
    assignee = "https://canvas.example.edu/users/20417"
    in_main = confirmed(cohort.item, main.offering_id)
    in_other = confirmed(cohort.item, other.offering_id)
    for enrolment, offering in ((in_main, main), (in_other, other)):
        await deliver(cohort.service.app, enrolment)
        response = await cohort.http.post(
            "/roster-links",
            json={
                "client_id": "sensor",
                "subject": assignee,
                "offering_id": str(offering.offering_id),
                "enrolment_id": str(enrolment.enrolment_id),
            },
            headers=cohort.staff(),
        )
        assert response.status_code == 201

    response = await cohort.http.post(
        "/caliper/events",
        json=sample("caliper/valid_01_envelope_gradeevent_v1p2.json"),
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200
    assert response.json()["grades"][0]["enrolment_id"] == str(in_main.enrolment_id)


async def test_a_caliper_envelope_records_each_of_its_grade_events(cohort: Cohort) -> None:
    key = "caliper-sensor-key-00000002"
    await cohort.register("sensor", "caliper", secret=key)
    first, second = await cohort.confirm(), await cohort.confirm()
    await cohort.link("sensor", "https://canvas.example.edu/users/1", first.enrolment_id)
    await cohort.link("sensor", "https://canvas.example.edu/users/2", second.enrolment_id)
    await cohort.declare("sensor", {"activity": CALIPER_ASSIGNMENT, "summative": True})
    envelope = sample("caliper/valid_01_envelope_gradeevent_v1p2.json")
    template = envelope["data"][0]
    events = []
    for user, score in ((1, 45.0), (2, 20.0)):
        event = copy.deepcopy(template)
        event["id"] = f"urn:uuid:{uuid4()}"
        event["object"]["assignee"] = {
            "id": f"https://canvas.example.edu/users/{user}",
            "type": "Person",
        }
        event["generated"]["scoreGiven"] = score
        events.append(event)

    response = await cohort.http.post(
        "/caliper/events",
        json={**envelope, "data": events},
        headers={"Authorization": f"Bearer {key}"},
    )
    again = await cohort.http.post(
        "/caliper/events",
        json={**envelope, "data": events},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200
    assert [g["outcome"] for g in response.json()["grades"]] == ["passed", "failed"]
    assert [g["status"] for g in again.json()["grades"]] == ["duplicate", "duplicate"]
    assert sorted(await cohort.outcome_events()) == ["AssessmentFailed", "AssessmentPassed"]


async def test_caliper_needs_the_sensors_api_key(cohort: Cohort) -> None:
    await cohort.register("sensor", "caliper", secret="caliper-sensor-key-00000003")
    envelope = sample("caliper/valid_01_envelope_gradeevent_v1p2.json")

    missing = await cohort.http.post("/caliper/events", json=envelope)
    wrong = await cohort.http.post(
        "/caliper/events", json=envelope, headers={"Authorization": "Bearer guessed-key-0000000"}
    )
    as_text = await cohort.http.post(
        "/caliper/events",
        content=json.dumps(envelope),
        headers={
            "Authorization": "Bearer caliper-sensor-key-00000003",
            "Content-Type": "text/plain",
        },
    )

    assert (missing.status_code, wrong.status_code, as_text.status_code) == (401, 401, 415)
    assert missing.headers["www-authenticate"] == 'Bearer realm="caliper"'


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


XAPI = {"X-Experience-API-Version": "1.0.3"}
CALIPER_ASSIGNMENT = "https://canvas.example.edu/courses/1742/assignments/5521"
XAPI_QUIZ = "https://moodle.example.ac.uk/mod/quiz/view.php?id=345"


async def test_xapi_stores_a_statement_by_put_and_refuses_its_id_reused_for_another(
    cohort: Cohort,
) -> None:
    secret = "lrs-client-secret-0001"
    await cohort.register("lrs", "xapi", secret=secret)
    enrolment = await cohort.confirm()
    await cohort.link("lrs", "https://moodle.example.ac.uk|1047", enrolment.enrolment_id)
    await cohort.declare("lrs", {"activity": XAPI_QUIZ, "summative": True})
    statement = sample("xapi/valid_01_statement_passed.json")
    statement_id = statement.pop("id")
    headers = {**_basic("lrs", secret), **XAPI}

    put = await cohort.http.put(
        f"/xapi/statements?statementId={statement_id}", json=statement, headers=headers
    )
    again = await cohort.http.put(
        f"/xapi/statements?statementId={statement_id}", json=statement, headers=headers
    )
    changed = copy.deepcopy(statement)
    changed["result"]["score"]["scaled"] = 0.1
    conflict = await cohort.http.put(
        f"/xapi/statements?statementId={statement_id}", json=changed, headers=headers
    )

    assert (put.status_code, again.status_code, conflict.status_code) == (204, 204, 409)
    assert put.headers["x-experience-api-version"] == "1.0.3"
    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_xapi_needs_basic_credentials_of_a_registered_lrs_client(cohort: Cohort) -> None:
    await cohort.register("lrs", "xapi", secret="lrs-client-secret-0002")
    statement = sample("xapi/valid_01_statement_passed.json")

    wrong = await cohort.http.post(
        "/xapi/statements", json=statement, headers={**_basic("lrs", "nope"), **XAPI}
    )
    none = await cohort.http.post("/xapi/statements", json=statement, headers=XAPI)
    about = await cohort.http.get("/xapi/about")

    assert (wrong.status_code, none.status_code) == (401, 401)
    assert wrong.headers["www-authenticate"] == 'Basic realm="credstack-xapi"'
    assert about.json() == {"version": ["1.0.3"]}


async def test_an_xapi_statement_with_a_foreign_registration_is_quarantined_and_listed(
    cohort: Cohort,
) -> None:
    """`context.registration` is the LRS's attempt id: even when an enrolment with that id
    exists, an actor without a roster link is quarantined, with the reason, for staff."""
    await cohort.register("lrs", "xapi", secret="lrs-client-secret-0003")
    statement = sample("xapi/valid_01_statement_passed.json")
    await cohort.confirm(UUID(statement["context"]["registration"]))

    response = await cohort.http.post(
        "/xapi/statements",
        json=statement,
        headers={**_basic("lrs", "lrs-client-secret-0003"), **XAPI},
    )

    assert response.status_code == 202
    assert response.json() == [statement["id"]]
    (item,) = (await cohort.http.get("/quarantined-grades", headers=cohort.staff())).json()["items"]
    assert item["subjects"] == ["https://moodle.example.ac.uk|1047"]
    assert item["note"] == "no roster link for https://moodle.example.ac.uk|1047"
    assert await cohort.outcome_events() == []


async def _moodle(cohort: Cohort, moodle: FakeMoodle) -> Any:
    token = "moodle-webhook-token-0001"
    await cohort.register(MOODLE_CLIENT, "moodle", secret=token, moodle_url=moodle.url)
    enrolment = await cohort.confirm()
    await cohort.link(MOODLE_CLIENT, "1047", enrolment.enrolment_id)
    notification = sample("moodle/valid_01_webhook_core_user_graded.json")
    notification["token"] = token
    return notification


def _report(raw: float) -> dict[str, Any]:
    report = sample("moodle/valid_03_ws_gradereport_user_get_grade_items_response.json")
    report["usergrades"][0]["gradeitems"][1]["graderaw"] = raw
    return report


async def test_a_moodle_notification_fetches_the_course_total_from_the_web_service(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    notification = await _moodle(cohort, fake_moodle)
    fake_moodle.grades[(12, 1047)] = _report(81)

    response = await cohort.http.post("/moodle/webhook", json=notification)

    assert response.status_code == 200
    assert response.json()["grades"][0]["outcome"] == "passed"
    (call,) = fake_moodle.calls
    assert call["wsfunction"] == "gradereport_user_get_grade_items"
    assert (call["courseid"], call["userid"], call["moodlewsrestformat"]) == ("12", "1047", "json")
    again = await cohort.http.post("/moodle/webhook", json=notification)
    assert again.json()["status"] == "duplicate"
    assert len(fake_moodle.calls) == 1


async def test_a_moodle_grade_that_cannot_be_fetched_is_kept_and_fetched_later(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    notification = await _moodle(cohort, fake_moodle)
    fake_moodle.grades[(12, 1047)] = _report(90)
    fake_moodle.down = True

    response = await cohort.http.post("/moodle/webhook", json=notification)

    assert response.status_code == 202
    assert response.json()["status"] == "fetch-pending"
    async with cohort.service.engine.connect() as conn:
        row = (await conn.execute(select(tables.moodle_notification))).one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "503" in row.last_error

    fake_moodle.down = False
    async with cohort.service.engine.begin() as conn:
        await conn.execute(update(tables.moodle_notification).values(next_attempt_at=func.now()))
    worker = asyncio.create_task(gradebook.retry_pending(cohort.service.app))
    try:
        async with asyncio.timeout(20):
            while True:
                if await cohort.outcome_events() == ["AssessmentPassed"]:
                    break
                await asyncio.sleep(0.05)
    finally:
        worker.cancel()

    async with cohort.service.engine.connect() as conn:
        row = (await conn.execute(select(tables.moodle_notification))).one()
    assert (row.status, row.last_error) == ("fetched", None)
    gradebook_port = cohort.service.app.state.gradebook
    assert await gradebook.fetch(cohort.service.engine, gradebook_port, row.id) is None


async def test_a_form_encoded_moodle_notification_is_read_like_json(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    notification = await _moodle(cohort, fake_moodle)
    fake_moodle.grades[(12, 1047)] = _report(30)
    form = {k: v for k, v in notification.items() if k != "other" and v is not None}
    form.update({f"other[{k}]": v for k, v in notification["other"].items()})

    response = await cohort.http.post("/moodle/webhook", data={k: str(v) for k, v in form.items()})

    assert response.status_code == 200
    assert await cohort.outcome_events() == ["AssessmentFailed"]


async def test_wrong_passwords_on_the_intake_routes_are_rate_limited(cohort: Cohort) -> None:
    secret = "lrs-client-secret-0009"
    await cohort.register("lrs", "xapi", secret=secret)
    statement = sample("xapi/valid_01_statement_passed.json")
    wrong = {**_basic("lrs", "guess"), **XAPI}

    guesses = [
        (await cohort.http.post("/xapi/statements", json=statement, headers=wrong)).status_code
        for _ in range(11)
    ]
    right = await cohort.http.post(
        "/xapi/statements", json=statement, headers={**_basic("lrs", secret), **XAPI}
    )
    caliper = await cohort.http.post(
        "/caliper/events", json={}, headers={"Authorization": "Bearer unknown-key"}
    )

    assert guesses == [401] * 10 + [429]
    assert right.status_code == 429, "the address waits, whatever it sends"
    assert int(right.headers["retry-after"]) >= 1
    assert right.json()["type"].endswith("rate-limited")
    assert caliper.status_code == 401, "each intake route counts its own failures"


async def _grade_rows(cohort: Cohort) -> int:
    async with cohort.service.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(tables.grade)) or 0)


KIND_EXTRAS: dict[str, dict[str, Any]] = {
    "native": {},
    "caliper": {"secret": "caliper-sensor-key-000009"},
    "xapi": {"secret": "xapi-client-secret-000009"},
    "moodle": {"secret": "moodle-webhook-token-0009"},
}


def _extras(kind: str, moodle: FakeMoodle) -> dict[str, Any]:
    return {**KIND_EXTRAS[kind], **({"moodle_url": moodle.url} if kind == "moodle" else {})}


@pytest.mark.parametrize("kind", sorted(KIND_EXTRAS))
async def test_only_an_lti_client_may_use_the_lti_endpoints(
    cohort: Cohort, fake_moodle: FakeMoodle, kind: str
) -> None:
    """A client registered as another kind, with a token naming it, is refused at the LTI
    AGS routes (403 unregistered-client) and nothing is recorded."""
    other = MOODLE_CLIENT if kind == "moodle" else "other"  # Moodle needs its ws token set
    enrolment = await cohort.confirm()
    await cohort.register(other, kind, **_extras(kind, fake_moodle))
    await cohort.link(other, USER, enrolment.enrolment_id)

    score = await _score(cohort, sample("lti_ags/valid_01_score_fully_graded.json"), other)
    line_item = await cohort.http.get(
        f"/lti/offerings/{cohort.offering_id}/lineitem", headers=cohort.lms(other)
    )

    assert (score.status_code, line_item.status_code) == (403, 403)
    assert score.json()["type"].endswith("/unregistered-client")
    assert f"registered as {kind}" in score.json()["detail"]
    assert await _grade_rows(cohort) == 0
    assert await cohort.outcome_events() == []


async def test_an_lti_client_may_still_post_the_native_form(cohort: Cohort) -> None:
    """docs/assessment.md: an LTI platform posts at its line item and at `/grades`."""
    enrolment = await _lti(cohort)

    response = await cohort.native("canvas", enrolment.enrolment_id, 80)

    assert response.status_code == 200, response.text


async def test_only_a_bearer_kind_client_may_post_the_native_form(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    """Caliper, xAPI and Moodle clients post in their own forms, even with a token
    naming them."""
    enrolment = await cohort.confirm()
    clients = {"caliper": "sensor", "xapi": "lrs", "moodle": MOODLE_CLIENT}
    for kind, client in clients.items():
        await cohort.register(client, kind, **_extras(kind, fake_moodle))

    refused = [await cohort.native(c, enrolment.enrolment_id, 80) for c in clients.values()]

    assert [r.status_code for r in refused] == [403, 403, 403]
    assert all(r.json()["type"].endswith("/unregistered-client") for r in refused)
    assert await _grade_rows(cohort) == 0


async def test_secret_kinds_accept_only_their_own_kind(cohort: Cohort) -> None:
    """A Caliper sensor's key opens neither xAPI nor the Moodle webhook, and an xAPI
    client's secret is not a Caliper key."""
    await cohort.confirm()
    await cohort.register("sensor", "caliper", **KIND_EXTRAS["caliper"])
    await cohort.register("lrs", "xapi", **KIND_EXTRAS["xapi"])
    await cohort.register("sensor-as-lrs", "caliper", secret="caliper-sensor-key-000010")
    statement = sample("xapi/valid_01_statement_passed.json")

    caliper_at_xapi = await cohort.http.post(
        "/xapi/statements",
        json=statement,
        headers={**_basic("sensor-as-lrs", "caliper-sensor-key-000010"), **XAPI},
    )
    xapi_at_caliper = await cohort.http.post(
        "/caliper/events",
        json=sample("caliper/valid_01_envelope_gradeevent_v1p2.json"),
        headers={"Authorization": "Bearer xapi-client-secret-000009"},
    )
    caliper_at_moodle = await cohort.http.post(
        "/moodle/webhook",
        json={"eventname": "\\core\\event\\user_graded", "token": "caliper-sensor-key-000009"},
    )

    assert caliper_at_xapi.status_code == 403
    assert caliper_at_xapi.json()["type"].endswith("/unregistered-client")
    assert (xapi_at_caliper.status_code, caliper_at_moodle.status_code) == (401, 401)
    assert await _grade_rows(cohort) == 0


async def _line_item_score(cohort: Cohort, line_item: str, body: dict[str, Any]) -> Any:
    return await cohort.http.post(
        f"/lti/offerings/{cohort.offering_id}/lineitems/{line_item}/scores",
        content=json.dumps(body),
        headers={**cohort.lms("canvas"), "Content-Type": SCORE},
    )


async def test_scores_on_the_courses_other_line_items_are_kept_but_never_decide(
    cohort: Cohort,
) -> None:
    """A real AGS feed: the overall result on the offering's line item, and a practice
    quiz on another, later and failing: the pass stands."""
    enrolment = await _lti(cohort)
    passed = sample("lti_ags/valid_01_score_fully_graded.json")  # 42/50 = 84 %
    assert (await _score(cohort, passed)).status_code == 200
    quiz = {**passed, "scoreGiven": 5, "timestamp": "2025-03-15T08:00:00Z"}

    answer = await _line_item_score(cohort, "practice-quiz-2", quiz)

    assert answer.status_code == 200, answer.text
    assert answer.json()["grades"][0]["status"] == "recorded"
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    result = await cohort.result(enrolment.enrolment_id)
    assert (result["outcome"], result["score"]) == ("passed", 84)
    overall, practice = result["grades"]
    assert (overall["summative"], practice["summative"]) == (True, False)
    assert practice["note"] == "formative: practice-quiz-2 is not the course's overall result"


async def test_a_line_item_staff_declared_summative_decides_and_the_others_do_not(
    cohort: Cohort,
) -> None:
    enrolment = await _lti(cohort)
    declared = await cohort.declare("canvas", {"activity": "final-exam", "summative": True})
    assert declared.status_code == 200, declared.text
    score = sample("lti_ags/valid_01_score_fully_graded.json")

    overall = await _score(cohort, {**score, "scoreGiven": 50})  # not the declared one
    assert overall.status_code == 200
    assert await cohort.outcome_events() == []
    exam = {**score, "scoreGiven": 20, "timestamp": "2025-03-15T08:00:00Z"}  # 40 %
    assert (await _line_item_score(cohort, "final-exam", exam)).status_code == 200

    assert await cohort.outcome_events() == ["AssessmentFailed"]
    result = await cohort.result(enrolment.enrolment_id)
    assert (result["outcome"], result["score"]) == ("failed", 40)


async def test_a_line_item_id_that_is_not_a_path_segment_is_refused(cohort: Cohort) -> None:
    await _lti(cohort)
    score = sample("lti_ags/valid_01_score_fully_graded.json")
    answer = await _line_item_score(cohort, "-bad~", score)
    assert answer.status_code == 422
