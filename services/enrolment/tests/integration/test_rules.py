"""The policy's rules over HTTP, with the facts other services publish delivered as events."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from credstack.auth import learner_id_for
from credstack.contracts.assessment import PlacementAssessed
from credstack.contracts.catalogue import MicroCredentialPublished
from credstack.contracts.issuer import CredentialIssued, CredentialRevoked
from credstack.testing import ServiceUnderTest, Tokens, deliver

from .steps import (
    accept_declaration,
    enrol,
    enrolled,
    events_of,
    learner,
    learner_events_of,
    offering,
    register,
    session_event,
    session_of,
    status,
    types,
    view,
    webhook,
)


async def credential(
    enrolment: ServiceUnderTest, name: str, micro_credential_id: UUID
) -> CredentialIssued:
    issued = CredentialIssued(
        credential_id=uuid4(),
        learner_id=learner_id_for(name),
        enrolment_id=uuid4(),
        micro_credential_id=micro_credential_id,
        micro_credential_version=1,
        url="https://issuer.example/credentials/1",
        issued_at=datetime.now(UTC),
    )
    assert await deliver(enrolment.app, issued) == "applied"
    return issued


async def test_without_the_declaration_a_paid_enrolment_waits_then_confirms_when_accepted(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    await register(enrolment, tokens, declare=False)
    created = (await enrol(enrolment, tokens, offering_id)).json()

    session_id = await session_of(enrolment, tokens, created["id"])
    await webhook(
        enrolment, session_event("checkout.session.completed", created["id"], session_id=session_id)
    )
    waiting = await view(enrolment, tokens, created["id"])
    accepted = await accept_declaration(enrolment, tokens)

    assert waiting["status"] == "awaiting_declaration"
    assert "academic-integrity" in waiting["next_step"]
    assert accepted.json()["confirmed_enrolments"] == [created["id"]]
    assert await status(enrolment, tokens, created["id"]) == "confirmed"
    assert types(await events_of(enrolment)) == [
        "EnrolmentRequested",
        "DeclarationRequired",
        "EnrolmentConfirmed",
    ]
    (declared,) = await learner_events_of(enrolment)
    assert declared["type"] == "credstack.enrolment.IntegrityDeclarationAccepted.v1"
    assert declared["data"]["version"] == 1
    assert declared["data"]["confirmed_enrolment_ids"] == [created["id"]]
    assert declared["subject"] == declared["data"]["learner_id"]


async def test_a_free_enrolment_without_the_declaration_holds_its_seat_until_accepted(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, fee_cents=0, capacity=1)
    await register(enrolment, tokens, "ada", declare=False)
    created = (await enrol(enrolment, tokens, offering_id, name="ada")).json()
    other = await enrolled(enrolment, tokens, offering_id, "bob")

    assert created["status"] == "awaiting_declaration"
    assert other["status"] == "waitlisted"
    await accept_declaration(enrolment, tokens, "ada")
    assert await status(enrolment, tokens, created["id"]) == "confirmed"


async def test_only_the_current_declaration_can_be_accepted(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await register(enrolment, tokens, declare=False)
    revised = await enrolment.http.post(
        "/academic-integrity/declarations",
        json={"text": "Revised: I will do my own work and cite every source I use."},
        headers=tokens("staff"),
    )
    outdated = await enrolment.http.post(
        "/learners/me/integrity-declaration", json={"version": 1}, headers=learner(tokens)
    )
    current = await accept_declaration(enrolment, tokens)
    learners_cannot_publish = await enrolment.http.post(
        "/academic-integrity/declarations",
        json={"text": "A declaration a learner wrote for themselves."},
        headers=learner(tokens),
    )

    assert revised.json()["version"] == 2
    assert outdated.status_code == 409
    assert outdated.json()["type"].endswith("/declaration-outdated")
    assert outdated.json()["current_version"] == 2
    assert current.json()["accepted_version"] == 2
    assert learners_cannot_publish.status_code == 403


async def test_a_learner_inducted_once_is_not_held_up_by_a_later_version(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await enrolled(enrolment, tokens, await offering(enrolment, fee_cents=0))
    await enrolment.http.post(
        "/academic-integrity/declarations",
        json={"text": "Revised: I will do my own work and cite every source I use."},
        headers=tokens("staff"),
    )
    second = (await enrol(enrolment, tokens, await offering(enrolment, fee_cents=0))).json()
    assert second["status"] == "confirmed"


async def test_prerequisites_are_checked_against_the_credentials_the_learner_holds(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    foundation = uuid4()
    offering_id = await offering(enrolment, prerequisites=[foundation])
    await register(enrolment, tokens, "ada")
    await register(enrolment, tokens, "bob")
    await credential(enrolment, "ada", foundation)

    holder = await enrol(enrolment, tokens, offering_id, name="ada")
    other = await enrol(enrolment, tokens, offering_id, name="bob")

    assert holder.status_code == 201
    assert other.status_code == 409
    assert other.json()["type"].endswith("/prerequisites-not-met")
    assert other.json()["missing_prerequisites"] == [str(foundation)]


async def test_the_micro_credential_versions_prerequisites_count_too(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    micro_credential_id, foundation = uuid4(), uuid4()
    published = MicroCredentialPublished(
        micro_credential_id=micro_credential_id,
        version=1,
        code="MC-DATA-201",
        title="Data Pipelines",
        description="Pipelines.",
        learning_outcomes=[],
        credit_points=3,
        notional_hours=65,
        cpd_hours=65,
        prerequisites=[foundation],
        published_at=datetime.now(UTC),
    )
    assert await deliver(enrolment.app, published) == "applied"
    offering_id = await offering(enrolment, micro_credential_id=micro_credential_id)
    await register(enrolment, tokens)
    refused = await enrol(enrolment, tokens, offering_id)
    assert refused.json()["missing_prerequisites"] == [str(foundation)]


async def test_a_revoked_credential_no_longer_satisfies_a_prerequisite(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    foundation = uuid4()
    offering_id = await offering(enrolment, prerequisites=[foundation])
    await register(enrolment, tokens)
    issued = await credential(enrolment, "ada", foundation)
    revoked = CredentialRevoked(
        credential_id=issued.credential_id,
        learner_id=issued.learner_id,
        reason="result withdrawn",
        revoked_at=datetime.now(UTC),
    )
    assert await deliver(enrolment.app, revoked) == "applied"
    assert (await enrol(enrolment, tokens, offering_id)).status_code == 409


async def test_declared_experience_waits_for_staff_who_approve_it_into_a_seat(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, prerequisites=[uuid4()])
    await register(enrolment, tokens, "ada")
    await register(enrolment, tokens, "bob")
    statement = "Six years building data pipelines at a bank."
    approved = (
        await enrol(enrolment, tokens, offering_id, name="ada", experience_statement=statement)
    ).json()
    declined = (
        await enrol(enrolment, tokens, offering_id, name="bob", experience_statement="Keen.")
    ).json()
    assert (approved["status"], approved["hold_expires_at"]) == ("awaiting_approval", None)
    queue = await enrolment.http.get(
        f"/offerings/{offering_id}/roster",
        params={"status": "awaiting_approval"},
        headers=tokens("staff"),
    )
    assert [e["experience_statement"] for e in queue.json()["items"]] == [statement, "Keen."]

    yes = await enrolment.http.post(
        f"/enrolments/{approved['id']}/eligibility",
        json={"approved": True, "note": "equivalent experience"},
        headers=tokens("staff"),
    )
    no = await enrolment.http.post(
        f"/enrolments/{declined['id']}/eligibility",
        json={"approved": False, "note": "no evidence of prior study"},
        headers=tokens("staff"),
    )
    learner_tries = await enrolment.http.post(
        f"/enrolments/{declined['id']}/eligibility",
        json={"approved": True},
        headers=learner(tokens, "bob"),
    )

    assert yes.json()["status"] == "pending_payment"
    assert no.json()["status"] == "cancelled"
    assert no.json()["end_reason"] == "not eligible: no evidence of prior study"
    assert learner_tries.status_code == 403


async def test_a_prerequisite_credential_arriving_later_lifts_the_need_for_approval(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    foundation = uuid4()
    offering_id = await offering(enrolment, prerequisites=[foundation])
    await register(enrolment, tokens)
    waiting = (
        await enrol(enrolment, tokens, offering_id, experience_statement="Finishing it now.")
    ).json()

    await credential(enrolment, "ada", foundation)

    assert await status(enrolment, tokens, waiting["id"]) == "pending_payment"


async def japanese(enrolment: ServiceUnderTest, level: str) -> UUID:
    return await offering(
        enrolment, is_language_micro_credential=True, language="ja", language_level=level
    )


async def test_a_learner_without_experience_of_a_language_enrols_at_the_entry_level_only(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await register(enrolment, tokens)
    entry, b1 = await japanese(enrolment, "A1"), await japanese(enrolment, "B1")

    undeclared = await enrol(enrolment, tokens, entry)
    beginner = await enrol(enrolment, tokens, entry, language_experience=False)
    too_high = await enrol(enrolment, tokens, b1, language_experience=False)

    assert undeclared.status_code == 422
    assert undeclared.json()["type"].endswith("/language-experience-undeclared")
    assert beginner.status_code == 201
    assert too_high.status_code == 409
    assert too_high.json()["type"].endswith("/not-entry-level")


async def test_a_learner_with_experience_needs_a_placement_from_assessment(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await register(enrolment, tokens)
    a2, b1 = await japanese(enrolment, "A2"), await japanese(enrolment, "B1")

    before = await enrol(enrolment, tokens, b1, language_experience=True)
    placed = PlacementAssessed(
        learner_id=learner_id_for("ada"),
        language="JA",
        level="B1",
        assessed_at=datetime.now(UTC),
    )
    earlier = PlacementAssessed(
        learner_id=learner_id_for("ada"),
        language="ja",
        level="A1",
        assessed_at=datetime.now(UTC) - timedelta(days=30),
    )
    assert await deliver(enrolment.app, placed) == "applied"
    assert await deliver(enrolment.app, earlier) == "applied"
    wrong_level = await enrol(enrolment, tokens, a2, language_experience=True)
    right_level = await enrol(enrolment, tokens, b1, language_experience=True)
    profile = await enrolment.http.get("/learners/me", headers=learner(tokens))

    assert before.status_code == 409
    assert before.json()["type"].endswith("/placement-required")
    assert wrong_level.status_code == 409
    assert wrong_level.json()["placed_level"] == "B1", "an older placement arriving late loses"
    assert right_level.status_code == 201
    assert profile.json()["placements"] == {"ja": "B1"}
