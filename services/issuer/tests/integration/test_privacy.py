"""A learner's data in the issuer, and erasure: contact details and emails go, issued
credentials stay signed and keep verifying."""

import json
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select

from credstack.contracts.enrolment import LearnerContactChanged, LearnerErased
from credstack.contracts.envelope import to_cloudevent
from credstack.privacy import ERASED
from credstack.testing import ServiceUnderTest, Tokens, deliver
from issuer import tables

from ..events import NOW, Learner, contact, micro_credential, passed
from .conftest import deliver_all, issued


async def credential_for(issuer: ServiceUnderTest, learner: Learner) -> Any:
    item = micro_credential()
    enrolment = learner.confirmed(item).model_copy(update={"learner_name": None, "email": None})
    await deliver_all(issuer, item, contact(learner), enrolment, passed(enrolment))
    [row] = [r for r in await issued(issuer) if r.learner_id == learner.id]
    return row


async def offer(issuer: ServiceUnderTest, tokens: Tokens, row: Any, learner: Learner) -> None:
    response = await issuer.http.post(
        f"/learners/me/credentials/{row.id}/claims", headers=tokens("learner", learner.subject)
    )
    assert response.status_code == 201, response.text


async def test_a_learners_data_holds_their_credentials_and_claims_and_nobody_elses(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    ada, grace = Learner(), Learner(name="Grace Hopper", email="grace@example.org")
    mine = await credential_for(issuer, ada)
    theirs = await credential_for(issuer, grace)
    await offer(issuer, tokens, mine, ada)

    response = await issuer.http.get("/learners/me/data", headers=tokens("learner", ada.subject))

    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["service"], data["learner_id"]) == ("issuer", str(ada.id))
    assert data["contact"]["email"] == "ada@example.org"
    assert [c["id"] for c in data["credentials"]] == [str(mine.id)]
    assert data["credentials"][0]["document"] == dict(mine.document)
    assert [a["kind"] for a in data["awards"]] == ["micro-credential"]
    assert {c["credential_id"] for c in data["claims"]} == {str(mine.id)}  # emailed + offered
    assert "grace" not in response.text.lower() and str(theirs.id) not in response.text
    staff = await issuer.http.get(f"/admin/learners/{ada.id}/data", headers=tokens("staff"))
    assert staff.json()["credentials"] == data["credentials"]


async def held_on(issuer: ServiceUnderTest, learner_id: UUID) -> dict[str, Any]:
    async with issuer.engine.connect() as conn:

        async def rows(table: Any) -> list[Any]:
            found = await conn.execute(select(table).where(table.c.learner_id == learner_id))
            return list(found.all())

        return {
            "contact": await rows(tables.contact),
            "recipients": [(r.name, r.email) for r in await rows(tables.recipient)],
            "credentials": [
                (r.recipient_name, r.recipient_email) for r in await rows(tables.credential)
            ],
            "claims": await rows(tables.claim),
        }


async def test_erasure_removes_contact_details_and_emails_and_the_credential_still_verifies(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    ada, grace = Learner(), Learner(name="Grace Hopper", email="grace@example.org")
    row = await credential_for(issuer, ada)
    await credential_for(issuer, grace)
    await offer(issuer, tokens, row, ada)
    erased = LearnerErased(learner_id=ada.id, erased_at=NOW + timedelta(days=1))

    assert await deliver(issuer.app, erased) == "applied"

    held = await held_on(issuer, ada.id)
    assert held == {
        "contact": [],
        "recipients": [(None, None)],
        "credentials": [("Ada Lovelace", ERASED)],
        "claims": [],
    }
    assert (await held_on(issuer, grace.id))["credentials"] == [
        ("Grace Hopper", "grace@example.org")
    ]
    document = dict(row.document)
    assert "ada@example.org" not in str(document)
    verdict = (await issuer.http.post("/verify", json=document)).json()
    assert verdict["verified"] is True, verdict
    page = await issuer.http.get(f"/verify/{row.id}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Ada Lovelace" in page.text
    record = await issuer.http.get("/learners/me/clr", headers=tokens("learner", ada.subject))
    assert record.status_code == 409
    assert record.json()["type"].endswith("/record-erased")


async def test_redelivered_erasure_and_replayed_contact_details_change_nothing(
    issuer: ServiceUnderTest,
) -> None:
    ada = Learner()
    await credential_for(issuer, ada)
    erased = LearnerErased(learner_id=ada.id, erased_at=NOW + timedelta(days=1))
    await deliver(issuer.app, erased)
    after = await held_on(issuer, ada.id)

    assert await deliver(issuer.app, erased) == "applied"  # another copy, another event id
    await deliver(issuer.app, contact(ada))  # the contact details erasure removed, replayed
    second = micro_credential()
    enrolment = ada.confirmed(second)  # a v1 event, still carrying the name and email
    await deliver_all(issuer, second, enrolment, passed(enrolment))

    now = await held_on(issuer, ada.id)
    assert now == {**after, "recipients": [(None, None), (None, None)]}
    assert len(await issued(issuer)) == 1  # nothing names them: nothing new is issued


async def test_contact_details_newer_than_the_erasure_name_the_next_credential(
    issuer: ServiceUnderTest,
) -> None:
    ada = Learner()
    await credential_for(issuer, ada)
    await deliver(issuer.app, LearnerErased(learner_id=ada.id, erased_at=NOW + timedelta(days=1)))

    await deliver(issuer.app, contact(ada, name="Ada King", at=NOW + timedelta(days=2)))
    second = micro_credential()
    enrolment = ada.confirmed(second).model_copy(update={"learner_name": None, "email": None})
    await deliver_all(issuer, second, enrolment, passed(enrolment))

    assert [r.recipient_name for r in await issued(issuer)] == ["Ada Lovelace", "Ada King"]


async def park(service: ServiceUnderTest, event: LearnerContactChanged) -> None:
    """The contact event as the consumer parks one it could not apply."""
    envelope = to_cloudevent(
        event, event_id=uuid4(), time=NOW, source="/credstack/enrolment", traceparent=None
    )
    async with service.engine.begin() as conn:
        await conn.execute(
            tables.parked.table.insert().values(
                topic="enrolment.contacts",
                partition=0,
                offset=0,
                key=event.key(),
                payload=json.dumps(envelope),
                error="tests",
                parked_at=NOW,
            )
        )


async def test_erasure_forgets_the_learners_parked_contact_details_only(
    issuer: ServiceUnderTest,
) -> None:
    ada, grace = Learner(), Learner(name="Grace Hopper", email="grace@example.org")
    await park(issuer, contact(ada))
    await park(issuer, contact(grace))

    await deliver(issuer.app, LearnerErased(learner_id=ada.id, erased_at=NOW + timedelta(days=1)))

    async with issuer.engine.connect() as conn:
        keys = await conn.scalars(select(tables.parked.table.c.key))
        assert list(keys) == [str(grace.id)]
