"""A learner's data in assessment, and erasure: their LMS identities and the payloads that
name them go; the academic record stays."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from assessment import tables
from credstack.auth import learner_id_for
from credstack.contracts.enrolment import LearnerDataErased
from credstack.testing import deliver

from .conftest import NOW, Cohort, confirmed
from .test_samples import XAPI_ACTIVITY, XAPI_ACTOR, XAPI_CLIENT, XAPI_SECRET, Sender


async def graded_by_xapi(cohort: Cohort, subject: str) -> UUID:
    """A confirmed enrolment of the learner `subject`, linked and passed by an xAPI
    statement whose actor names them."""
    await cohort.register(XAPI_CLIENT, "xapi", secret=XAPI_SECRET)
    enrolment = confirmed(cohort.item, cohort.offering_id).model_copy(
        update={"learner_id": learner_id_for(subject)}
    )
    assert await deliver(cohort.service.app, enrolment) == "applied"
    assert (await cohort.link(XAPI_CLIENT, XAPI_ACTOR, enrolment.enrolment_id)).status_code == 201
    declared = await cohort.declare(XAPI_CLIENT, {"activity": XAPI_ACTIVITY, "summative": True})
    assert declared.status_code == 200, declared.text
    sent = await Sender("xapi", cohort).send("valid_01_statement_passed.json")
    assert sent.status_code in (200, 202, 204), sent.text
    return enrolment.enrolment_id


async def test_a_learners_data_holds_their_grades_links_and_result_and_nobody_elses(
    cohort: Cohort,
) -> None:
    enrolment_id = await graded_by_xapi(cohort, "priya")
    other = await cohort.confirm()

    response = await cohort.http.get("/learners/me/data", headers=cohort.tokens("learner", "priya"))

    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["service"], data["learner_id"]) == ("assessment", str(learner_id_for("priya")))
    [record] = data["enrolments"]
    assert record["enrolment_id"] == str(enrolment_id)
    assert record["lms_links"] == [
        {
            "client_id": XAPI_CLIENT,
            "lms_subject": XAPI_ACTOR,
            "linked_at": record["lms_links"][0]["linked_at"],
        }
    ]
    [grade] = record["grades"]
    assert grade["payload"]["actor"]["name"] == "Priya Natarajan"
    assert record["result"]["outcome"] == "passed"
    assert str(other.enrolment_id) not in response.text
    staff = await cohort.http.get(
        f"/admin/learners/{learner_id_for('priya')}/data", headers=cohort.staff()
    )
    assert staff.json()["enrolments"] == data["enrolments"]


async def held(cohort: Cohort, enrolment_id: UUID) -> dict[str, Any]:
    async with cohort.service.engine.connect() as conn:
        grades = (
            await conn.execute(
                select(tables.grade).where(tables.grade.c.enrolment_id == enrolment_id)
            )
        ).all()
        links = await conn.scalar(
            select(func.count())
            .select_from(tables.roster_link)
            .where(tables.roster_link.c.enrolment_id == enrolment_id)
        )
        outcome = await conn.scalar(
            select(tables.result.c.outcome).where(tables.result.c.enrolment_id == enrolment_id)
        )
        return {
            "grades": [(g.subjects, g.payload, g.score is not None) for g in grades],
            "links": links,
            "outcome": outcome,
        }


async def test_erasure_removes_lms_identities_and_payloads_keeps_results_and_is_idempotent(
    cohort: Cohort,
) -> None:
    enrolment_id = await graded_by_xapi(cohort, "priya")
    erased = LearnerDataErased(learner_id=learner_id_for("priya"), erased_at=NOW)

    assert await deliver(cohort.service.app, erased) == "applied"

    after = await held(cohort, enrolment_id)
    assert after == {"grades": [([], {}, True)], "links": 0, "outcome": "passed"}
    assert await deliver(cohort.service.app, erased) == "applied"  # again, another event id
    assert await held(cohort, enrolment_id) == after
