"""A learner's data in the dashboard's log and views, and erasure of the names and emails
that events of older producers carried."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select

from credstack.auth import learner_id_for
from credstack.contracts import catalogue, enrolment
from credstack.testing import ServiceUnderTest, Tokens, deliver
from dashboard import tables

AT = datetime.now(UTC)


async def enrolled(dashboard: ServiceUnderTest, subject: str, name: str) -> UUID:
    """A confirmed enrolment whose (v1) confirmation still carries the name and email."""
    offering_id, mc, enrolment_id = uuid4(), uuid4(), uuid4()
    learner_id = learner_id_for(subject)
    events: list[Any] = [
        catalogue.OfferingScheduled(
            offering_id=offering_id,
            micro_credential_id=mc,
            micro_credential_version=1,
            code=f"MC-{subject.upper()}",
            title="Privacy Testing",
            starts_on=date.today(),
            ends_on=date.today() + timedelta(days=30),
            enrolment_opens_at=AT,
            enrolment_closes_at=AT + timedelta(days=5),
            capacity=20,
            delivery_mode="online",
            fee_cents=0,
        ),
        enrolment.EnrolmentRequested(
            enrolment_id=enrolment_id,
            learner_id=learner_id,
            offering_id=offering_id,
            micro_credential_id=mc,
            micro_credential_version=1,
            requested_at=AT,
        ),
        enrolment.EnrolmentConfirmed(
            enrolment_id=enrolment_id,
            learner_id=learner_id,
            learner_name=name,
            email=f"{subject}@example.org",
            offering_id=offering_id,
            micro_credential_id=mc,
            micro_credential_version=1,
            confirmed_at=AT,
        ),
    ]
    for event in events:
        assert await deliver(dashboard.app, event) == "applied"
    return enrolment_id


async def test_a_learners_data_holds_their_events_and_views_and_nobody_elses(
    dashboard: ServiceUnderTest, tokens: Tokens
) -> None:
    mine = await enrolled(dashboard, "ada", "Ada Lovelace")
    theirs = await enrolled(dashboard, "grace", "Grace Hopper")

    response = await dashboard.http.get("/learners/me/data", headers=tokens("learner", "ada"))

    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["service"], data["learner_id"]) == ("dashboard", str(learner_id_for("ada")))
    assert [e["type"].split(".")[2] for e in data["events"]] == [
        "EnrolmentRequested",
        "EnrolmentConfirmed",
    ]
    assert [v["enrolment_id"] for v in data["enrolments"]] == [str(mine)]
    assert "Grace" not in response.text and str(theirs) not in response.text
    staff = await dashboard.http.get(
        f"/admin/learners/{learner_id_for('ada')}/data", headers=tokens("staff")
    )
    assert staff.json()["events"] == data["events"]
    refused = await dashboard.http.get(
        f"/admin/learners/{learner_id_for('ada')}/data", headers=tokens("learner", "ada")
    )
    assert refused.status_code == 403


async def logged(dashboard: ServiceUnderTest, enrolment_id: UUID) -> list[str]:
    async with dashboard.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.event_log.c.summary, tables.event_log.c.cloudevent)
            .where(tables.event_log.c.enrolment_id == enrolment_id)
            .order_by(tables.event_log.c.position)
        )
        return [f"{r.summary} {r.cloudevent}" for r in rows]


async def test_erasure_removes_names_and_emails_from_the_learners_events_only(
    dashboard: ServiceUnderTest,
) -> None:
    mine = await enrolled(dashboard, "ada", "Ada Lovelace")
    theirs = await enrolled(dashboard, "grace", "Grace Hopper")
    assert any("Ada Lovelace" in e for e in await logged(dashboard, mine))
    erased = enrolment.LearnerDataErased(learner_id=learner_id_for("ada"), erased_at=AT)
    event_id = uuid4()

    assert await deliver(dashboard.app, erased, event_id=event_id) == "applied"

    after = await logged(dashboard, mine)
    assert len(after) == 2
    assert not any("Ada" in e or "ada@example.org" in e for e in after)
    assert any("A learner is enrolled" in e for e in after)
    assert any(
        "Grace Hopper" in e and "grace@example.org" in e for e in await logged(dashboard, theirs)
    )
    assert await deliver(dashboard.app, erased, event_id=event_id) == "duplicate"
    assert await deliver(dashboard.app, erased) == "applied"  # re-published: nothing left
    assert await logged(dashboard, mine) == after
