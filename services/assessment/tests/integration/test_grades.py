import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import httpx

from assessment import tables
from credstack.contracts.catalogue import LearningOutcome, MicroCredentialPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.testing import ServiceUnderTest, Tokens, deliver, staged_events

NOW = datetime.now(UTC)


def published(pass_mark: int = 70) -> MicroCredentialPublished:
    return MicroCredentialPublished(
        micro_credential_id=uuid4(),
        version=1,
        code="MC-1",
        title="Data Cleaning",
        description="D",
        learning_outcomes=[
            LearningOutcome(id="LO1", description="a"),
            LearningOutcome(id="LO2", description="b"),
        ],
        pass_mark=Decimal(pass_mark),
        credit_points=Decimal("3.125"),
        notional_hours=Decimal(65),
        cpd_hours=Decimal(65),
        published_at=NOW,
    )


def confirmed(micro_credential: MicroCredentialPublished) -> EnrolmentConfirmed:
    return EnrolmentConfirmed(
        enrolment_id=uuid4(),
        learner_id=uuid4(),
        learner_name="Ada",
        email="ada@example.org",
        offering_id=uuid4(),
        micro_credential_id=micro_credential.micro_credential_id,
        micro_credential_version=1,
        confirmed_at=NOW,
    )


async def grade(
    assessment: ServiceUnderTest, tokens: Tokens, enrolment_id: UUID, score: float, **extra: Any
) -> httpx.Response:
    return await assessment.http.post(
        "/grades",
        json={"enrolment_id": str(enrolment_id), "score": score, **extra},
        headers=tokens("lms", "moodle"),
    )


def outcomes(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].split(".")[2] for e in events]


async def test_a_grade_at_the_pass_mark_passes_a_confirmed_enrolment(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = published()
    await deliver(assessment.app, item)
    enrolment = confirmed(item)
    await deliver(assessment.app, enrolment)

    response = await grade(assessment, tokens, enrolment.enrolment_id, 70)

    assert response.status_code == 202
    assert response.json()["outcome"] == "passed"
    events = await staged_events(assessment.engine, tables.outbox)
    assert outcomes(events) == ["AssessmentPassed"]
    assert events[0]["data"]["micro_credential_version"] == 1
    assert events[0]["data"]["learner_id"] == str(enrolment.learner_id)


async def test_a_grade_below_the_pass_mark_fails(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = published()
    await deliver(assessment.app, item)
    enrolment = confirmed(item)
    await deliver(assessment.app, enrolment)
    await grade(assessment, tokens, enrolment.enrolment_id, 69.9)
    assert outcomes(await staged_events(assessment.engine, tables.outbox)) == ["AssessmentFailed"]


async def test_an_undemonstrated_learning_outcome_fails_despite_the_score(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = published()
    await deliver(assessment.app, item)
    enrolment = confirmed(item)
    await deliver(assessment.app, enrolment)
    await grade(
        assessment,
        tokens,
        enrolment.enrolment_id,
        95,
        outcomes=[
            {"outcome_id": "LO1", "demonstrated": True},
            {"outcome_id": "LO2", "demonstrated": False},
        ],
    )
    assert outcomes(await staged_events(assessment.engine, tables.outbox)) == ["AssessmentFailed"]


async def test_a_grade_before_confirmation_is_kept_and_decided_when_the_confirmation_arrives(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = published()
    enrolment = confirmed(item)

    early = await grade(assessment, tokens, enrolment.enrolment_id, 88)
    assert early.status_code == 202
    assert early.json()["outcome"] is None
    await deliver(assessment.app, enrolment)
    assert await staged_events(assessment.engine, tables.outbox) == []
    await deliver(assessment.app, item)

    assert outcomes(await staged_events(assessment.engine, tables.outbox)) == ["AssessmentPassed"]


async def test_the_same_confirmation_delivered_twice_decides_once(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = published()
    await deliver(assessment.app, item)
    enrolment = confirmed(item)
    await grade(assessment, tokens, enrolment.enrolment_id, 90)
    event_id = uuid4()

    assert await deliver(assessment.app, enrolment, event_id=event_id) == "applied"
    assert await deliver(assessment.app, enrolment, event_id=event_id) == "duplicate"
    await grade(assessment, tokens, enrolment.enrolment_id, 90)

    assert outcomes(await staged_events(assessment.engine, tables.outbox)) == ["AssessmentPassed"]


async def test_grades_need_an_lms_token_and_a_valid_body(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    enrolment_id = uuid4()
    anonymous = await assessment.http.post(
        "/grades", json={"enrolment_id": str(enrolment_id), "score": 80}
    )
    learner = await assessment.http.post(
        "/grades", json={"enrolment_id": str(enrolment_id), "score": 80}, headers=tokens("learner")
    )
    out_of_range = await grade(assessment, tokens, enrolment_id, 180)

    assert (anonymous.status_code, learner.status_code, out_of_range.status_code) == (401, 403, 422)


async def test_a_grade_and_its_confirmation_arriving_at_once_are_always_decided(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = published()
    await deliver(assessment.app, item)
    enrolments = [confirmed(item) for _ in range(12)]

    await asyncio.gather(
        *(grade(assessment, tokens, e.enrolment_id, 80) for e in enrolments),
        *(deliver(assessment.app, e) for e in enrolments),
    )

    decided = outcomes(await staged_events(assessment.engine, tables.outbox))
    assert decided == ["AssessmentPassed"] * 12
