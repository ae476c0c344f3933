"""Whether the catalogue's announcements arrived here (for the reconciler), and that a
re-announcement (a new event id, the same content) decides nothing again."""

from __future__ import annotations

from uuid import uuid4

from credstack.testing import ServiceUnderTest, Tokens, deliver

from .conftest import Cohort, published, scheduled

LMS = "lms-native"


async def test_the_reconciler_asks_whether_a_version_and_an_offering_arrived(
    cohort: Cohort, assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item, offering = cohort.item, cohort.offering
    unheard = published()
    staff = tokens("staff")

    version = await assessment.http.get(
        f"/admin/micro-credentials/{item.micro_credential_id}/versions/1", headers=staff
    )
    other = await assessment.http.get(
        f"/admin/micro-credentials/{unheard.micro_credential_id}/versions/1", headers=staff
    )
    known = await assessment.http.get(f"/admin/offerings/{offering.offering_id}", headers=staff)
    unknown = await assessment.http.get(f"/admin/offerings/{uuid4()}", headers=staff)
    learner = await assessment.http.get(
        f"/admin/offerings/{offering.offering_id}", headers=tokens("learner")
    )

    assert version.json() == {
        "micro_credential_id": str(item.micro_credential_id),
        "version": 1,
        "known": True,
    }
    assert other.json()["known"] is False
    assert known.json() == {"offering_id": str(offering.offering_id), "known": True}
    assert unknown.json()["known"] is False
    assert learner.status_code == 403


async def test_a_re_announced_version_and_offering_decide_nothing_again(cohort: Cohort) -> None:
    await cohort.register(LMS, "native")
    enrolment = await cohort.confirm()
    await cohort.native(LMS, enrolment.enrolment_id, 80)
    before = await cohort.events()

    for event in (cohort.item, cohort.offering, cohort.item, cohort.offering):
        assert await deliver(cohort.service.app, event, event_id=uuid4()) == "applied"

    assert await cohort.events() == before
    assert await cohort.outcome_events() == ["AssessmentPassed"]


async def test_a_missed_offering_arriving_late_is_known_afterwards(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = published()
    offering = scheduled(item)
    await deliver(assessment.app, item)
    path = f"/admin/offerings/{offering.offering_id}"
    before = (await assessment.http.get(path, headers=tokens("staff"))).json()["known"]

    await deliver(assessment.app, offering)

    assert before is False
    assert (await assessment.http.get(path, headers=tokens("staff"))).json()["known"] is True
