"""Rosters that link themselves: an LMS that signs learners in with the platform's identity
provider names them by its subject (LTI `userId`, xAPI account name), so a grade for a
learner with no roster link is mapped to their confirmed enrolment and the link recorded,
for a client registered with `learner_ids: identity-provider`. Samples in the real formats
(../samples/grades/)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from credstack.auth import learner_id_for
from credstack.testing import deliver

from .conftest import Cohort, confirmed, scheduled

OWN = Path(__file__).resolve().parents[1] / "samples" / "grades"
SUBJECT = "c4a7e2f9-3b61-4d8a-9f05-7e1b2c6d8a34"  # the identity provider's subject in the samples
XAPI_SAMPLE = "idp_01_statement_passed_account_is_idp_subject.json"
LTI_SAMPLE = "idp_01_score_user_is_idp_subject.json"
XAPI_ACTIVITY = "https://moodle.example.ac.uk/mod/quiz/view.php?id=345"
XAPI_SECRET = "lrs-client-secret-idp-0001"
IDENTIFIER = {"xapi": f"https://login.example.ac.uk|{SUBJECT}", "lti_ags": SUBJECT}


def own(kind: str, file: str) -> Any:
    return json.loads((OWN / kind / file).read_text())


async def _register(cohort: Cohort, kind: str, learner_ids: str) -> None:
    if kind == "lti_ags":
        await cohort.register(
            "canvas",
            "lti",
            lti_issuer="https://canvas.example.edu",
            lti_deployment_id="1:idp",
            learner_ids=learner_ids,
        )
    else:
        await cohort.register("lrs", "xapi", secret=XAPI_SECRET, learner_ids=learner_ids)
        declared = await cohort.declare("lrs", {"activity": XAPI_ACTIVITY, "summative": True})
        assert declared.status_code == 200, declared.text


async def _send(cohort: Cohort, kind: str, file: str | None = None) -> httpx.Response:
    if kind == "lti_ags":
        return await cohort.http.post(
            f"/lti/offerings/{cohort.offering_id}/lineitem/scores",
            content=(OWN / kind / (file or LTI_SAMPLE)).read_bytes(),
            headers={
                **cohort.lms("canvas"),
                "Content-Type": "application/vnd.ims.lis.v1.score+json",
            },
        )
    pair = base64.b64encode(f"lrs:{XAPI_SECRET}".encode()).decode()
    return await cohort.http.post(
        "/xapi/statements",
        content=(OWN / kind / (file or XAPI_SAMPLE)).read_bytes(),
        headers={
            "Authorization": f"Basic {pair}",
            "Content-Type": "application/json",
            "X-Experience-API-Version": "1.0.3",
        },
    )


async def _confirm_learner(cohort: Cohort, subject: str) -> UUID:
    """A confirmed enrolment of the learner the identity provider knows as `subject`."""
    enrolment = confirmed(cohort.item, cohort.offering_id).model_copy(
        update={"learner_id": learner_id_for(subject)}
    )
    assert await deliver(cohort.service.app, enrolment) == "applied"
    return enrolment.enrolment_id


async def _links(cohort: Cohort) -> list[dict[str, Any]]:
    response = await cohort.http.get(
        f"/roster-links?offering_id={cohort.offering_id}", headers=cohort.staff()
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _quarantined(cohort: Cohort) -> list[dict[str, Any]]:
    response = await cohort.http.get("/quarantined-grades", headers=cohort.staff())
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize("kind", ["xapi", "lti_ags"])
async def test_a_learner_named_by_the_identity_provider_subject_is_mapped_and_linked(
    kind: str, cohort: Cohort
) -> None:
    await _register(cohort, kind, "identity-provider")
    enrolment_id = await _confirm_learner(cohort, SUBJECT)
    await cohort.confirm()  # another learner of the offering

    response = await _send(cohort, kind)

    assert response.status_code == 200, response.text
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    assert (await cohort.result(enrolment_id))["score"] == 88
    (link,) = await _links(cohort)
    assert (link["subject"], link["enrolment_id"]) == (IDENTIFIER[kind], str(enrolment_id))
    assert (link["automatic"], link["linked_by"]) == (True, "identity-provider")
    assert await _quarantined(cohort) == []


async def test_the_next_grade_follows_the_automatic_link(cohort: Cohort) -> None:
    await _register(cohort, "lti_ags", "identity-provider")
    enrolment_id = await _confirm_learner(cohort, SUBJECT)
    assert (await _send(cohort, "lti_ags")).status_code == 200
    later = own("lti_ags", LTI_SAMPLE) | {"timestamp": "2025-03-15T09:00:00.000+00:00"}

    response = await cohort.http.post(
        f"/lti/offerings/{cohort.offering_id}/lineitem/scores",
        json=later | {"scoreGiven": 30},
        headers={**cohort.lms("canvas"), "Content-Type": "application/vnd.ims.lis.v1.score+json"},
    )

    assert response.status_code == 200, response.text
    assert (await cohort.result(enrolment_id))["score"] == 60
    assert len(await _links(cohort)) == 1


@pytest.mark.parametrize("kind", ["xapi", "lti_ags"])
async def test_a_client_naming_learners_by_its_own_ids_is_never_linked_automatically(
    kind: str, cohort: Cohort
) -> None:
    await _register(cohort, kind, "lms")
    await _confirm_learner(cohort, SUBJECT)

    response = await _send(cohort, kind)

    assert response.status_code == 202, response.text
    assert await _links(cohort) == []
    (held,) = await _quarantined(cohort)
    assert held["note"] == f"no roster link for {IDENTIFIER[kind]}"
    assert await cohort.outcome_events() == []


@pytest.mark.parametrize("kind", ["xapi", "lti_ags"])
async def test_an_unknown_subject_is_quarantined_with_its_reason(kind: str, cohort: Cohort) -> None:
    await _register(cohort, kind, "identity-provider")
    await _confirm_learner(cohort, "someone-else")

    response = await _send(cohort, kind)

    assert response.status_code == 202, response.text
    (held,) = await _quarantined(cohort)
    assert held["note"] == (
        f"no roster link for {IDENTIFIER[kind]}, and the identity-provider subject {SUBJECT} "
        "has no confirmed enrolment in this client's offerings"
    )
    assert await _links(cohort) == []
    assert await cohort.outcome_events() == []


async def test_an_email_is_never_taken_for_the_identity_provider_subject(
    cohort: Cohort,
) -> None:
    """The xAPI actor is an mbox: no enrolment is looked for, even one whose learner id
    the address (or the address with its scheme) would give."""
    await _register(cohort, "xapi", "identity-provider")
    statement = own("xapi", "actor_01_statement_passed_by_mbox.json")
    mbox = statement["actor"]["mbox"]
    await _confirm_learner(cohort, mbox)
    await _confirm_learner(cohort, mbox.removeprefix("mailto:"))

    response = await _send(cohort, "xapi", "actor_01_statement_passed_by_mbox.json")

    assert response.status_code == 202, response.text
    (held,) = await _quarantined(cohort)
    assert held["note"] == (
        f"no roster link for {mbox}, and the identity-provider subject (none) has no "
        "confirmed enrolment in this client's offerings"
    )


async def test_a_learner_enrolled_in_two_offerings_of_another_course_is_quarantined(
    cohort: Cohort,
) -> None:
    """xAPI names no offering: two confirmed enrolments of the subject in the client's
    offerings, neither in the statement's LMS course, and the grade waits for staff."""
    other = scheduled(
        cohort.item, lms_course_ref="https://moodle.example.ac.uk/course/view.php?id=99"
    )
    await deliver(cohort.service.app, other)
    await cohort.register(
        "lrs",
        "xapi",
        secret=XAPI_SECRET,
        offerings=[cohort.offering_id, other.offering_id],
        learner_ids="identity-provider",
    )
    await cohort.declare("lrs", {"activity": XAPI_ACTIVITY, "summative": True})
    await _confirm_learner(cohort, SUBJECT)
    elsewhere = confirmed(cohort.item, other.offering_id).model_copy(
        update={"learner_id": learner_id_for(SUBJECT)}
    )
    await deliver(cohort.service.app, elsewhere)

    response = await _send(cohort, "xapi")

    assert response.status_code == 202, response.text
    (held,) = await _quarantined(cohort)
    assert held["note"].endswith(
        f"the identity-provider subject {SUBJECT} has 2 confirmed enrolments in this client's "
        "offerings and the grade does not say which it is for"
    )


async def test_the_registration_says_how_learners_are_named(cohort: Cohort) -> None:
    registered = await cohort.register("lrs", "xapi", secret=XAPI_SECRET)
    changed = await cohort.register("lrs", "xapi", learner_ids="identity-provider")
    staff = cohort.tokens("staff", "staff-operator")
    moodle = await cohort.http.put(
        "/lms-clients/moodle-idp",
        json={
            "kind": "moodle",
            "name": "m",
            "offering_ids": [str(cohort.offering_id)],
            "moodle_url": "https://moodle.example.ac.uk",
            "learner_ids": "identity-provider",
        },
        headers=staff,
    )
    unknown = await cohort.http.put(
        "/lms-clients/lrs",
        json={
            "kind": "xapi",
            "name": "lrs",
            "offering_ids": [str(cohort.offering_id)],
            "learner_ids": "email",
        },
        headers=staff,
    )

    assert (registered["learner_ids"], changed["learner_ids"]) == ("lms", "identity-provider")
    fetched = await cohort.http.get("/lms-clients/lrs", headers=staff)
    assert fetched.json()["learner_ids"] == "identity-provider"
    assert moodle.status_code == 422, moodle.text
    assert "numeric user id" in moodle.json()["detail"]
    assert unknown.status_code == 422
