import sys
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import func, select

from credstack.contracts.assessment import AssessmentPassed
from credstack.contracts.catalogue import Alignment, LearningOutcome, MicroCredentialPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.testing import REPO, ServiceUnderTest, Tokens, deliver, staged_events
from issuer import tables

from ..conformance import ob3_schema_errors

sys.path.insert(0, str(REPO / "tests" / "verifiers"))
from digitalbazaar import require_node, verify_with_digitalbazaar

NOW = datetime.now(UTC)


def journey_events() -> tuple[MicroCredentialPublished, EnrolmentConfirmed, AssessmentPassed]:
    item = MicroCredentialPublished(
        micro_credential_id=uuid4(),
        version=2,
        code="MC-DATA-101",
        title="Data Cleaning",
        description="Prepare messy data for analysis.",
        learning_outcomes=[LearningOutcome(id="LO1", description="Clean a dataset")],
        pass_mark=Decimal(70),
        credit_points=Decimal("3.125"),
        notional_hours=Decimal(65),
        cpd_hours=Decimal(65),
        field_of_study="Information Technology",
        expiry_months=36,
        alignments=[Alignment(name="Data quality", url="https://esco.example/skill/1", code="S1")],
        published_at=NOW,
    )
    enrolment = EnrolmentConfirmed(
        enrolment_id=uuid4(),
        learner_id=uuid4(),
        learner_name="Ada Lovelace",
        email="ada@example.org",
        offering_id=uuid4(),
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=2,
        confirmed_at=NOW,
    )
    passed = AssessmentPassed(
        enrolment_id=enrolment.enrolment_id,
        learner_id=enrolment.learner_id,
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=2,
        decided_at=NOW,
        score=Decimal("86.5"),
        evidence=["https://lms.example.edu/submissions/42"],
    )
    return item, enrolment, passed


async def issued_credentials(issuer: ServiceUnderTest) -> list[dict]:
    async with issuer.engine.connect() as conn:
        return [row[0] for row in await conn.execute(select(tables.credential.c.document))]


async def test_a_pass_becomes_one_signed_open_badge_whatever_order_the_events_arrive_in(
    issuer: ServiceUnderTest,
) -> None:
    item, enrolment, passed = journey_events()
    await deliver(issuer.app, passed)
    await deliver(issuer.app, enrolment)
    assert await issued_credentials(issuer) == []
    await deliver(issuer.app, item)

    [credential] = await issued_credentials(issuer)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["version"] == "2"
    assert achievement["creditsAvailable"] == 3.125
    assert credential["credentialSubject"]["result"][0]["value"] == "86.5"
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert "validUntil" in credential
    events = await staged_events(issuer.engine, tables.outbox)
    assert [e["type"] for e in events] == ["credstack.issuer.CredentialIssued.v1"]
    assert events[0]["data"]["url"] == credential["id"]


async def test_a_redelivered_pass_never_issues_twice(issuer: ServiceUnderTest) -> None:
    item, enrolment, passed = journey_events()
    await deliver(issuer.app, item)
    await deliver(issuer.app, enrolment)
    await deliver(issuer.app, passed)
    await deliver(issuer.app, passed)  # the same decision, redelivered under a new event id
    async with issuer.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.credential)) == 1


async def test_the_issued_credential_is_public_and_conforms_to_the_ob3_schema(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item, enrolment, passed = journey_events()
    for event in (item, enrolment, passed):
        await deliver(issuer.app, event)
    [summary] = (
        await issuer.http.get(
            "/credentials",
            params={"enrolment_id": str(enrolment.enrolment_id)},
            headers=tokens("staff"),
        )
    ).json()

    response = await issuer.http.get(f"/credentials/{summary['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vc+ld+json")
    assert ob3_schema_errors(response.json()) == []


async def test_the_issued_credential_verifies_with_digital_bazaars_verifier(
    issuer: ServiceUnderTest,
) -> None:
    require_node()
    item, enrolment, passed = journey_events()
    for event in (item, enrolment, passed):
        await deliver(issuer.app, event)
    [credential] = await issued_credentials(issuer)
    did_document = (await issuer.http.get("/.well-known/did.json")).json()

    verdict = verify_with_digitalbazaar(credential, {did_document["id"]: did_document})
    assert verdict["verified"] is True, verdict

    tampered = {**credential, "name": "Something Else"}
    assert (
        verify_with_digitalbazaar(tampered, {did_document["id"]: did_document})["verified"] is False
    )


async def test_an_unknown_credential_is_a_404_problem(issuer: ServiceUnderTest) -> None:
    response = await issuer.http.get(f"/credentials/{uuid4()}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
