"""Every sample in ../shared/samples/grades/ gets the answer its manifest expects, over HTTP.

Each case sets up what a real deployment would have: the LMS integration registered,
the learner's enrolment confirmed and linked by the integration's identifiers, Moodle's
web service answering. A sample with `after` is sent after the one it names. An
accepted sample must have its effect; a refused one must change nothing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from assessment import tables

from .conftest import MOODLE_CLIENT, Cohort, FakeMoodle

SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples" / "grades"
MANIFEST = json.loads((SAMPLES / "MANIFEST.json").read_text())

LTI_CLIENT = "canvas-ags"
LTI_USER = "5f2c9e1a-8b3d-4c7e-9a61-2d4f7b0e3c58"
CALIPER_CLIENT = "canvas-caliper"
CALIPER_KEY = "caliper-sensor-api-key-0001"
CALIPER_ASSIGNEE = "https://canvas.example.edu/users/20417"
XAPI_CLIENT, XAPI_SECRET = "moodle-lrs", "example-only-password"  # the samples' Basic credentials
XAPI_ACTOR = "https://moodle.example.ac.uk|1047"  # the samples' actor account
XAPI_ACTIVITY = "https://moodle.example.ac.uk/mod/quiz/view.php?id=345"
CALIPER_ASSIGNABLE = "https://canvas.example.edu/courses/1742/assignments/5521"
MOODLE_USER = "1047"


@dataclass(frozen=True)
class Request:
    method: str
    headers: dict[str, str]
    body: bytes


def _http_file(path: Path) -> Request:
    """The request in a `.http` sample: request line, headers, body (comments dropped)."""
    head, _, rest = path.read_text().partition("\n\n")
    request_line, *header_lines = head.splitlines()
    body = "\n".join(line for line in rest.splitlines() if not line.startswith("#")).strip()
    headers = dict(line.split(": ", 1) for line in header_lines)
    return Request(request_line.split()[0], headers, body.encode())


def _cases() -> list[Any]:
    cases = []
    for kind, spec in MANIFEST.items():
        if kind.startswith("_"):
            continue
        for entry in spec["files"] + spec.get("http", []):
            marks = []
            if entry["expect"] is None:
                marks.append(pytest.mark.skip(reason=entry.get("note", "not sent to us")))
            cases.append(pytest.param(kind, entry, id=f"{kind}/{entry['file']}", marks=marks))
    return cases


class Sender:
    """Sends a sample of one format the way that integration would."""

    def __init__(self, kind: str, cohort: Cohort) -> None:
        self.kind = kind
        self.cohort = cohort
        self.spec = MANIFEST[kind]

    def request(self, file: str) -> Request:
        path = SAMPLES / self.kind / file
        if file.endswith(".http"):
            request = _http_file(path)
        else:
            headers = {"Content-Type": self.spec["content_type"].split(" ")[0]}
            request = Request(
                "POST", {**headers, **self.spec.get("headers", {})}, path.read_bytes()
            )
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "authorization")
        }
        return Request(request.method, {**headers, **self.credentials(request)}, request.body)

    def credentials(self, request: Request) -> dict[str, str]:
        if self.kind == "lti_ags":
            return self.cohort.lms(LTI_CLIENT)
        if self.kind == "caliper":
            return {"Authorization": f"Bearer {CALIPER_KEY}"}
        if self.kind == "xapi":
            pair = base64.b64encode(f"{XAPI_CLIENT}:{XAPI_SECRET}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {}

    @property
    def path(self) -> str:
        return {
            "lti_ags": f"/lti/offerings/{self.cohort.offering_id}/lineitem/scores",
            "caliper": "/caliper/events",
            "xapi": "/xapi/statements",
            "moodle": "/moodle/webhook",
        }[self.kind]

    async def send(self, file: str) -> httpx.Response:
        request = self.request(file)
        return await self.cohort.http.request(
            request.method, self.path, content=request.body, headers=request.headers
        )


async def _prepare(kind: str, cohort: Cohort, moodle: FakeMoodle) -> UUID:
    """Register the integration and a linked, confirmed learner; returns the enrolment."""
    if kind == "lti_ags":
        await cohort.register(
            LTI_CLIENT,
            "lti",
            lti_issuer="https://canvas.example.edu",
            lti_deployment_id="1:a5b2c3d4",
        )
        enrolment = await cohort.confirm()
        assert (await cohort.link(LTI_CLIENT, LTI_USER, enrolment.enrolment_id)).status_code == 201
    elif kind == "caliper":
        await cohort.register(CALIPER_CLIENT, "caliper", secret=CALIPER_KEY)
        enrolment = await cohort.confirm()
        await cohort.link(CALIPER_CLIENT, CALIPER_ASSIGNEE, enrolment.enrolment_id)
        declared = await cohort.declare(
            CALIPER_CLIENT, {"activity": CALIPER_ASSIGNABLE, "summative": True}
        )
        assert declared.status_code == 200, declared.text
    elif kind == "xapi":
        await cohort.register(XAPI_CLIENT, "xapi", secret=XAPI_SECRET)
        enrolment = await cohort.confirm()
        await cohort.link(XAPI_CLIENT, XAPI_ACTOR, enrolment.enrolment_id)
        declared = await cohort.declare(XAPI_CLIENT, {"activity": XAPI_ACTIVITY, "summative": True})
        assert declared.status_code == 200, declared.text
    else:
        await cohort.register(
            MOODLE_CLIENT,
            "moodle",
            secret=MANIFEST["moodle"]["shared_token"],
            moodle_url=moodle.url,
        )
        enrolment = await cohort.confirm()
        await cohort.link(MOODLE_CLIENT, MOODLE_USER, enrolment.enrolment_id)
        report = json.loads(
            (
                SAMPLES / "moodle" / "valid_03_ws_gradereport_user_get_grade_items_response.json"
            ).read_text()
        )
        moodle.grades[(12, 1047)] = report
    return enrolment.enrolment_id


async def _footprint(cohort: Cohort) -> tuple[int, int, int]:
    async with cohort.service.engine.connect() as conn:
        return (
            int(await conn.scalar(select(func.count()).select_from(tables.grade)) or 0),
            int(await conn.scalar(select(func.count()).select_from(tables.outbox.table)) or 0),
            int(await conn.scalar(select(func.count()).select_from(tables.result)) or 0),
        )


# What each accepted sample must lead to, from its own numbers.
EFFECTS: dict[str, list[str]] = {
    "lti_ags/valid_01_score_fully_graded.json": ["GradeRecorded", "AssessmentPassed"],  # 42/50
    "lti_ags/valid_02_score_submitted_pending_manual.json": [],  # progress only: no score
    "lti_ags/valid_03_score_canvas_extension_scoring_user.json": [
        "GradeRecorded",
        "AssessmentPassed",
    ],
    "lti_ags/valid_04_score_extra_credit_exceeds_max.json": ["GradeRecorded", "AssessmentPassed"],
    "lti_ags/http_01_score_post_valid.http": ["GradeRecorded", "AssessmentPassed"],
    "caliper/valid_01_envelope_gradeevent_v1p2.json": ["GradeRecorded", "AssessmentPassed"],
    "caliper/valid_03_envelope_gradeevent_v1p1_zero_score.json": [
        "GradeRecorded",
        "AssessmentFailed",
    ],
    "caliper/unmappable_01_attempt_without_assignee.json": [],  # quarantined
    "xapi/valid_01_statement_passed.json": ["GradeRecorded", "AssessmentPassed"],  # 0.84
    "xapi/valid_02_statement_failed.json": ["GradeRecorded", "AssessmentFailed"],  # 0.4
    "xapi/http_01_post_statements_valid.http": ["GradeRecorded", "AssessmentPassed"],
    "moodle/valid_01_webhook_core_user_graded.json": [
        "GradeRecorded",
        "AssessmentFailed",
    ],  # 40.5/100
    "moodle/ignored_01_webhook_non_grade_event.json": [],
}


@pytest.mark.parametrize(("kind", "entry"), _cases())
async def test_each_sample_gets_the_answer_its_manifest_expects(
    kind: str, entry: dict[str, Any], cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    await _prepare(kind, cohort, fake_moodle)
    sender = Sender(kind, cohort)
    if before := entry.get("after"):
        earlier = next(e for e in MANIFEST[kind]["files"] if e["file"] == before)
        assert (await sender.send(before)).status_code == earlier["expect"]
    footprint = await _footprint(cohort)
    events_before = len(await cohort.events())

    response = await sender.send(entry["file"])

    assert response.status_code == entry["expect"], response.text
    name = f"{kind}/{entry['file']}"
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["type"].startswith("https://credstack.dev/problems/")
        assert problem["detail"]
        assert await _footprint(cohort) == footprint, "a refused sample changed something"
        return
    new_events = [e["type"].split(".")[2] for e in (await cohort.events())[events_before:]]
    assert new_events == EFFECTS[name], name


async def test_an_unmappable_caliper_grade_is_listed_for_staff(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    await _prepare("caliper", cohort, fake_moodle)

    response = await Sender("caliper", cohort).send("unmappable_01_attempt_without_assignee.json")

    assert response.status_code == 202
    assert response.json()["grades"][0]["status"] == "quarantined"
    listed = (await cohort.http.get("/quarantined-grades", headers=cohort.staff())).json()
    (grade,) = listed["items"]
    assert grade["client_id"] == CALIPER_CLIENT
    assert grade["note"] == "the grade names no learner"
    assert grade["score"] == 84.0


async def test_ags_scores_are_scaled_to_percent_with_extra_credit_allowed(
    cohort: Cohort, fake_moodle: FakeMoodle
) -> None:
    """42/50 is 84% and 52/50 is 104% (extra credit, allowed by AGS)."""
    enrolment_id = await _prepare("lti_ags", cohort, fake_moodle)
    sender = Sender("lti_ags", cohort)
    await sender.send("valid_01_score_fully_graded.json")
    await sender.send("valid_04_score_extra_credit_exceeds_max.json")

    grades = (await cohort.result(enrolment_id))["grades"]

    assert [g["score"] for g in grades] == [84, 104]
    assert (await cohort.result(enrolment_id))["score"] == 104
