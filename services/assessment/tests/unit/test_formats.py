"""The wire formats read without a server: what each yields, and what each refuses."""

import copy
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from assessment.formats import Rejected, caliper, load_json, lti, moodle, xapi
from assessment.registry import ClientKind, LmsClient, RegistrationError, chosen_secret

SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples" / "grades"
OFFERING = uuid4()
NOW = datetime(2025, 3, 20, tzinfo=UTC)


def sample(path: str) -> Any:
    return load_json((SAMPLES / path).read_bytes())


def refused(status: int, call: Any, *args: Any, **kwargs: Any) -> Rejected:
    with pytest.raises(Rejected) as caught:
        call(*args, **kwargs)
    assert caught.value.status == status
    return caught.value


def test_json_numbers_are_exact_and_constants_refused() -> None:
    assert load_json(b'{"x": 0.84}') == {"x": Decimal("0.84")}
    refused(400, load_json, b'{"x": NaN}')
    refused(400, load_json, b"{not json")


def test_an_ags_score_is_a_percentage_keyed_by_user_and_timestamp() -> None:
    grade = lti.score_submission(
        sample("lti_ags/valid_01_score_fully_graded.json"), offering_id=OFFERING
    )
    assert (grade.score, grade.final, grade.refuse_stale) == (Decimal("84.000"), True, True)
    assert grade.learner.subjects == ("5f2c9e1a-8b3d-4c7e-9a61-2d4f7b0e3c58",)
    assert grade.learner.offering_id == OFFERING
    assert grade.graded_at == datetime(2025, 3, 14, 10, 44, 58, 123000, tzinfo=UTC)


def test_an_ags_progress_update_without_a_score_is_not_final() -> None:
    grade = lti.score_submission(
        sample("lti_ags/valid_02_score_submitted_pending_manual.json"), offering_id=OFFERING
    )
    assert (grade.score, grade.final) == (None, False)


@pytest.mark.parametrize("progress", ["Pending", "PendingManual", "Failed", "NotReady"])
def test_only_fully_graded_is_final(progress: str) -> None:
    body = {**sample("lti_ags/valid_01_score_fully_graded.json"), "gradingProgress": progress}
    grade = lti.score_submission(body, offering_id=OFFERING)
    assert grade.score == Decimal("84.000")
    assert grade.final is False


def test_canvas_submission_urls_become_evidence_and_other_extensions_are_ignored() -> None:
    body = sample("lti_ags/valid_03_score_canvas_extension_scoring_user.json")
    grade = lti.score_submission(body, offering_id=OFFERING)
    assert grade.evidence == ("https://tool.example.org/submissions/88123",)
    grade = lti.score_submission(
        {**body, "https://vendor.example/x": {"y": 1}}, offering_id=OFFERING
    )
    assert grade.score == Decimal("93.000")


@pytest.mark.parametrize(
    "changes",
    [
        {"scoreGiven": 42, "scoreMaximum": None},
        {"gradingProgress": "Done"},
        {"activityProgress": None},
        {"timestamp": "yesterday"},
        {"scoreGiven": True},
        {"scoreMaximum": "50"},
    ],
)
def test_an_ags_score_breaking_the_specification_is_400(changes: dict[str, Any]) -> None:
    body = {**sample("lti_ags/valid_01_score_fully_graded.json"), **changes}
    refused(
        400,
        lti.score_submission,
        {k: v for k, v in body.items() if v is not None},
        offering_id=OFFERING,
    )


def test_a_caliper_envelope_yields_each_grade_event_and_ignores_other_events() -> None:
    envelope = sample("caliper/valid_01_envelope_gradeevent_v1p2.json")
    second = copy.deepcopy(envelope["data"][0])
    second["id"] = f"urn:uuid:{uuid4()}"
    second["generated"]["scoreGiven"] = 25
    viewed = {"id": f"urn:uuid:{uuid4()}", "type": "ViewEvent", "action": "Viewed"}
    grades, events = caliper.envelope_submissions(
        {**envelope, "data": [*envelope["data"], second, viewed]}
    )
    assert [g.score for g in grades] == [Decimal("84.000"), Decimal("50.000")]
    assert len(events) == 3
    (first, _) = grades
    assert first.learner.subjects == (
        "https://canvas.example.edu/users/20417",
        "5f2c9e1a-8b3d-4c7e-9a61-2d4f7b0e3c58",
        "S2025-00417",
    )
    assert first.learner.course_refs == ("https://canvas.example.edu/courses/1742", "MC-DATA-101")
    assert first.evidence == (
        "https://canvas.example.edu/courses/1742/assignments/5521/submissions/20417/attempts/1",
    )


def test_caliper_entities_referenced_by_iri_are_looked_up_in_the_envelope() -> None:
    envelope = sample("caliper/valid_01_envelope_gradeevent_v1p2.json")
    event = envelope["data"][0]
    attempt, score = event["object"], event["generated"]
    assignee = attempt["assignee"]
    described = [{**attempt, "assignee": assignee["id"]}, assignee, score]
    referring = {**event, "object": attempt["id"], "generated": score["id"]}
    grades, _ = caliper.envelope_submissions({**envelope, "data": [referring, *described]})
    assert grades[0].score == Decimal("84.000")
    assert grades[0].learner.subjects[0] == "https://canvas.example.edu/users/20417"


def test_email_addresses_are_never_used_to_find_a_caliper_learner() -> None:
    envelope = sample("caliper/valid_01_envelope_gradeevent_v1p2.json")
    assignee = envelope["data"][0]["object"]["assignee"]
    assignee["otherIdentifiers"] = [
        {
            "type": "SystemIdentifier",
            "identifier": "priya@example.org",
            "identifierType": "EmailAddress",
        }
    ]
    grades, _ = caliper.envelope_submissions(envelope)
    assert grades[0].learner.subjects == ("https://canvas.example.edu/users/20417",)


def test_caliper_zero_is_a_real_score_and_1p1_is_accepted() -> None:
    grades, _ = caliper.envelope_submissions(
        sample("caliper/valid_03_envelope_gradeevent_v1p1_zero_score.json")
    )
    assert grades[0].score == Decimal("0.000")
    assert grades[0].final is True


def test_a_caliper_grade_without_any_maximum_cannot_be_scaled() -> None:
    envelope = sample("caliper/valid_01_envelope_gradeevent_v1p2.json")
    event = envelope["data"][0]
    del event["generated"]["maxScore"], event["object"]["assignable"]["maxScore"]
    refused(422, caliper.envelope_submissions, envelope)


def test_caliper_event_ids_must_be_uuid_urns() -> None:
    envelope = sample("caliper/valid_01_envelope_gradeevent_v1p2.json")
    envelope["data"][0]["id"] = "event-1"
    refused(400, caliper.envelope_submissions, envelope)


def test_an_xapi_statement_is_its_actor_never_the_enrolment_named_by_its_registration() -> None:
    grades, ids = xapi.statements(sample("xapi/valid_01_statement_passed.json"), received_at=NOW)
    (grade,) = grades
    assert grade.learner.enrolment_id is None
    assert grade.learner.subjects == ("https://moodle.example.ac.uk|1047",)
    assert grade.activity == "https://moodle.example.ac.uk/mod/quiz/view.php?id=345"
    assert "https://moodle.example.ac.uk/course/view.php?id=12" in grade.learner.course_refs
    assert (grade.score, grade.final, grade.delivery_id) == (Decimal("84.000"), True, str(ids[0]))


def test_an_xapi_actor_by_mbox_is_its_mailto_iri() -> None:
    statement = sample("xapi/valid_01_statement_passed.json")
    statement["actor"] = {"objectType": "Agent", "mbox": "mailto:priya@example.org"}
    (grade,), _ = xapi.statements(statement, received_at=NOW)
    assert grade.learner.subjects == ("mailto:priya@example.org",)


def test_xapi_raw_scores_are_scaled_between_min_and_max_when_scaled_is_absent() -> None:
    statement = sample("xapi/valid_01_statement_passed.json")
    statement["result"]["score"] = {"raw": 30, "min": 10, "max": 50}
    grades, _ = xapi.statements(statement, received_at=NOW)
    assert grades[0].score == Decimal("50.000")


def test_xapi_batches_get_ids_and_statements_without_a_grade_are_acknowledged() -> None:
    graded = sample("xapi/valid_01_statement_passed.json")
    experienced = {
        **sample("xapi/valid_02_statement_failed.json"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
    }
    unscored = {**graded, "result": {"completion": True}}
    for statement in (experienced, unscored):
        del statement["id"]
    grades, ids = xapi.statements([graded, experienced, unscored], received_at=NOW)
    assert len(ids) == 3 and len(set(ids)) == 3
    assert len(grades) == 1


def test_an_xapi_batch_is_refused_whole() -> None:
    good = sample("xapi/valid_01_statement_passed.json")
    refused(400, xapi.statements, [good, good], received_at=NOW)  # the same id twice
    refused(
        400, xapi.statements, [good, sample("xapi/invalid_03_missing_actor.json")], received_at=NOW
    )
    refused(400, xapi.statements, [], received_at=NOW)
    refused(400, xapi.statements, {**good, "unknown": 1}, received_at=NOW)


def test_an_xapi_put_carries_its_id_in_the_query() -> None:
    statement = sample("xapi/valid_01_statement_passed.json")
    del statement["id"]
    wanted = uuid4()
    _, ids = xapi.statements(statement, statement_id=wanted, received_at=NOW)
    assert ids == [wanted]
    refused(
        400,
        xapi.statements,
        {**statement, "id": str(uuid4())},
        statement_id=wanted,
        received_at=NOW,
    )


def test_an_xapi_agent_has_exactly_one_identifier() -> None:
    statement = sample("xapi/valid_01_statement_passed.json")
    statement["actor"]["mbox"] = "mailto:priya@example.org"
    refused(400, xapi.statements, statement, received_at=NOW)


@pytest.mark.parametrize("header", [None, "0.95", "2.0.0"])
def test_xapi_needs_a_1_0_version_header(header: str | None) -> None:
    refused(400, xapi.check_version, header)
    xapi.check_version("1.0.3")
    xapi.check_version("1.0")


def test_a_moodle_notification_form_encoded_reads_like_its_json() -> None:
    fields = moodle.form_fields(
        b"eventname=%5Ccore%5Cevent%5Cuser_graded&courseid=12&relateduserid=1047"
        b"&objectid=5531&timecreated=1741949098&other%5Bitemid%5D=88&other%5Bfinalgrade%5D=42.0"
    )
    graded = moodle.graded_user(fields)
    assert (graded.course_id, graded.user_id, graded.item_id) == (12, 1047, 88)
    assert graded == moodle.graded_user(sample("moodle/valid_01_webhook_core_user_graded.json"))


def test_the_moodle_course_total_is_the_overall_result() -> None:
    graded = moodle.graded_user(sample("moodle/valid_01_webhook_core_user_graded.json"))
    report = sample("moodle/valid_03_ws_gradereport_user_get_grade_items_response.json")
    grade = moodle.course_total(report, graded)
    assert (grade.score, grade.final) == (Decimal("40.500"), True)
    assert grade.learner.subjects == ("1047",)
    assert grade.learner.course_refs == ("12", "MC-DATA-101-2025S")
    assert grade.graded_at == datetime.fromtimestamp(1741949098, UTC)
    report["usergrades"][0]["gradeitems"][1]["gradeishidden"] = True
    assert moodle.course_total(report, graded).final is False


def test_moodle_errors_come_back_with_http_200_and_are_read_as_errors() -> None:
    graded = moodle.graded_user(sample("moodle/valid_01_webhook_core_user_graded.json"))
    with pytest.raises(moodle.MoodleError, match="invalidtoken"):
        moodle.course_total({"exception": "moodle_exception", "errorcode": "invalidtoken"}, graded)
    with pytest.raises(moodle.MoodleError):
        moodle.course_total({"usergrades": [], "warnings": []}, graded)


def test_an_lti_client_is_one_deployment_and_secrets_are_long() -> None:
    with pytest.raises(RegistrationError):
        LmsClient("c", ClientKind.LTI, "c", frozenset()).check()
    with pytest.raises(RegistrationError):
        LmsClient("c", ClientKind.MOODLE, "c", frozenset()).check()
    with pytest.raises(RegistrationError):
        chosen_secret(ClientKind.CALIPER, "short")
    with pytest.raises(RegistrationError):
        chosen_secret(ClientKind.NATIVE, "a-secret-for-a-bearer-client")
    assert len(chosen_secret(ClientKind.XAPI, None) or "") >= 32
