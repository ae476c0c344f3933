"""A learner's privacy rights in the enrolment service: their data, erasure, the archive."""

from typing import Any
from uuid import UUID

from sqlalchemy import select

from credstack.auth import learner_id_for
from credstack.privacy import ERASED
from credstack.testing import ServiceUnderTest, Tokens
from enrolment import tables

from .steps import (
    checkout,
    deliver_webhooks,
    enrolled,
    learner,
    offering,
    pay,
    register,
    session_event,
    session_of,
    staged_on,
    status,
    types,
    webhook,
)


async def confirmed_and_paid(enrolment: ServiceUnderTest, tokens: Tokens, name: str) -> str:
    """A paid, confirmed enrolment whose provider event names and reaches the payer."""
    created = await enrolled(enrolment, tokens, await offering(enrolment), name)
    session_id = await session_of(enrolment, tokens, created["id"], name)
    event = session_event(
        "checkout.session.completed",
        created["id"],
        session_id=session_id,
        payment_intent=f"pi_{name}",
    )
    event["data"]["object"]["customer_details"] = {
        "email": f"{name}@example.org",
        "name": name.title(),
    }
    event["data"]["object"]["customer_email"] = f"{name}@example.org"
    paid = await webhook(enrolment, event)
    assert paid.json()["outcome"] == "confirmed, payment paid", paid.text
    return str(created["id"])


async def test_a_learners_data_holds_their_profile_enrolments_and_payments_and_nobody_elses(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    mine = await confirmed_and_paid(enrolment, tokens, "ada")
    theirs = await confirmed_and_paid(enrolment, tokens, "grace")

    response = await enrolment.http.get("/learners/me/data", headers=learner(tokens, "ada"))

    assert response.status_code == 200, response.text
    data = response.json()
    assert data["service"] == "enrolment"
    assert data["learner_id"] == str(learner_id_for("ada"))
    assert data["profile"]["email"] == "ada@example.org"
    assert data["profile"]["name_on_credential"] == "Ada"
    assert data["profile"]["declaration_version"] == 1
    assert [e["id"] for e in data["enrolments"]] == [mine]
    assert data["enrolments"][0]["amount_paid_cents"] == 129500
    assert [p["enrolment_id"] for p in data["payments"]] == [mine]
    assert "grace" not in response.text and theirs not in response.text
    staff_view = await enrolment.http.get(
        f"/admin/learners/{learner_id_for('ada')}/data", headers=tokens("staff")
    )
    assert staff_view.json()["enrolments"] == data["enrolments"]
    other = await enrolment.http.get(
        f"/admin/learners/{learner_id_for('ada')}/data", headers=learner(tokens, "grace")
    )
    assert other.status_code == 403


async def personal_data_of(enrolment: ServiceUnderTest, learner_id: UUID) -> dict[str, Any]:
    async with enrolment.engine.connect() as conn:
        profile = (
            await conn.execute(select(tables.learner).where(tables.learner.c.id == learner_id))
        ).first()
        rows = (
            await conn.execute(
                select(tables.enrolment).where(tables.enrolment.c.learner_id == learner_id)
            )
        ).all()
        payloads = await conn.scalars(
            select(tables.payment_event.c.payload).where(
                tables.payment_event.c.enrolment_id.in_([r.id for r in rows])
            )
        )
        return {
            "profile": profile,
            "enrolments": [
                (r.learner_name, r.email, r.learner_subject, r.status, r.amount_paid_cents)
                for r in rows
            ],
            "payloads": list(payloads),
        }


async def test_erasure_removes_personal_data_keeps_the_financial_record_and_announces_it(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    enrolment_id = await confirmed_and_paid(enrolment, tokens, "ada")
    await confirmed_and_paid(enrolment, tokens, "grace")
    ada = learner_id_for("ada")

    response = await enrolment.http.post("/learners/me/erasure", headers=learner(tokens, "ada"))

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["learner_id"] == str(ada)
    assert answer["requested_by"] == "learner"
    assert answer["repeated"] is False
    by_service = {s["service"]: s for s in answer["services"]}
    assert set(by_service) == {"enrolment", "issuer", "notifier", "assessment", "dashboard"}
    assert any("salted hash" in k["why"] for k in by_service["issuer"]["keeps"])
    assert any("7 years" in k["why"] for k in by_service["enrolment"]["keeps"])
    held = await personal_data_of(enrolment, ada)
    assert held["profile"] is None
    assert held["enrolments"] == [(ERASED, ERASED, ERASED, "confirmed", 129500)]
    assert held["payloads"] and all(
        "ada@" not in str(p) and "Ada" not in str(p) for p in held["payloads"]
    )
    assert all(p["data"]["object"]["client_reference_id"] == enrolment_id for p in held["payloads"])
    grace = await personal_data_of(enrolment, learner_id_for("grace"))
    assert grace["profile"].email == "grace@example.org"
    assert "grace@example.org" in str(grace["payloads"])
    contacts = await staged_on(enrolment, "enrolment.contacts")
    # The outbox forgets the contact details it kept to publish again; grace's stay.
    assert [(types([c])[0], c["subject"]) for c in contacts] == [
        ("LearnerContactChanged", str(learner_id_for("grace"))),
        ("LearnerErased", str(ada)),
    ]
    events = await staged_on(enrolment, "enrolment.events")
    assert types(events)[-1] == "LearnerDataErased"
    assert events[-1]["data"] == {
        "learner_id": str(ada),
        "erased_at": events[-1]["data"]["erased_at"],
    }
    data = (await enrolment.http.get("/learners/me/data", headers=learner(tokens, "ada"))).json()
    assert data["profile"] is None
    assert data["erasure"]["erased_at"] == answer["erased_at"]


async def test_asking_again_is_a_no_op_that_answers_the_first_erasure(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await register(enrolment, tokens, "ada")
    first = await enrolment.http.post("/learners/me/erasure", headers=learner(tokens, "ada"))
    staged = len(await staged_on(enrolment, "enrolment.contacts"))

    again = await enrolment.http.post("/learners/me/erasure", headers=learner(tokens, "ada"))
    by_staff = await enrolment.http.post(
        f"/admin/learners/{learner_id_for('ada')}/erasure", headers=tokens("staff")
    )

    assert again.status_code == by_staff.status_code == 200
    assert again.json() == {**first.json(), "repeated": True}
    assert by_staff.json() == again.json()
    assert len(await staged_on(enrolment, "enrolment.contacts")) == staged


async def test_erasure_waits_while_an_enrolment_is_in_progress(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await enrolled(enrolment, tokens, await offering(enrolment), "ada")

    response = await enrolment.http.post("/learners/me/erasure", headers=learner(tokens, "ada"))

    assert response.status_code == 409
    assert response.json()["type"].endswith("/erasure-waits-for-enrolments")
    assert response.json()["enrolments"] == [created["id"]]
    assert (await personal_data_of(enrolment, learner_id_for("ada")))["profile"] is not None


async def test_staff_erase_on_a_learners_behalf_and_a_new_profile_is_erased_again(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await register(enrolment, tokens, "ada")
    first = await enrolment.http.post(
        f"/admin/learners/{learner_id_for('ada')}/erasure", headers=tokens("staff", "sam")
    )
    assert first.json()["requested_by"] == "staff:sam"
    audited = await enrolment.http.get(
        "/admin/audit", params={"action": "learner.erase"}, headers=tokens("staff")
    )
    assert [(e["actor"], e["target_id"]) for e in audited.json()["items"]] == [
        ("sam", str(learner_id_for("ada")))
    ]
    await register(enrolment, tokens, "ada", declare=False)

    again = await enrolment.http.post("/learners/me/erasure", headers=learner(tokens, "ada"))

    assert again.status_code == 200
    assert again.json()["repeated"] is False
    assert again.json()["requested_by"] == "learner"
    assert (await personal_data_of(enrolment, learner_id_for("ada")))["profile"] is None
    contacts = await staged_on(enrolment, "enrolment.contacts")
    assert types(contacts) == ["LearnerErased", "LearnerErased"]


async def test_the_archive_is_refused_when_a_service_cannot_be_reached(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await register(enrolment, tokens, "ada")
    settings = enrolment.app.state.settings
    settings.assessment_url = "http://127.0.0.1:9"  # nothing listens there
    settings.issuer_url = settings.notifier_url = settings.dashboard_url = "http://127.0.0.1:9"

    response = await enrolment.http.get("/learners/me/archive", headers=learner(tokens, "ada"))

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/export-incomplete")
    assert problem["services"] == ["assessment", "dashboard", "issuer", "notifier"]


async def test_erasure_reaches_the_local_providers_sessions_and_webhooks(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await enrolled(enrolment, tokens, await offering(enrolment), "ada")
    await pay(enrolment, await checkout(enrolment, tokens, created["id"], "ada"))
    assert await deliver_webhooks(enrolment) == 2
    assert await status(enrolment, tokens, created["id"]) == "confirmed"

    async def provider_rows() -> str:
        async with enrolment.engine.connect() as conn:
            sessions = (await conn.execute(select(tables.local_checkout_session))).all()
            webhooks = (await conn.execute(select(tables.local_webhook))).all()
            return str([tuple(r) for r in sessions] + [tuple(r) for r in webhooks])

    assert "ada@example.org" in await provider_rows()

    erased = await enrolment.http.post("/learners/me/erasure", headers=learner(tokens, "ada"))

    assert erased.status_code == 200, erased.text
    assert "ada@example.org" not in await provider_rows()


async def test_the_archive_is_rate_limited_per_learner(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    settings = enrolment.app.state.settings
    settings.assessment_url = "http://127.0.0.1:9"  # nothing listens there: a quick 503
    settings.issuer_url = settings.notifier_url = settings.dashboard_url = "http://127.0.0.1:9"
    answers = [
        (await enrolment.http.get("/learners/me/archive", headers=learner(tokens, "ada")))
        for _ in range(6)
    ]

    assert [a.status_code for a in answers] == [503] * 5 + [429]
    assert "Retry-After" in answers[-1].headers
    other = await enrolment.http.get("/learners/me/archive", headers=learner(tokens, "grace"))
    assert other.status_code == 503
