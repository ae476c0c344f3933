"""A learner's data in the notifier, and erasure delivered again."""

from typing import Any
from uuid import uuid4

from sqlalchemy import func, select

from credstack.contracts.enrolment import LearnerErased
from credstack.testing import ServiceUnderTest, deliver
from notifier import mail, tables

from ..events import NOW, Learner, micro_credential, offering_of
from .conftest import deliver_all, send_all


async def enrolled(notifier: ServiceUnderTest, learner: Learner) -> Any:
    course = micro_credential()
    offering = offering_of(course)
    await deliver_all(
        notifier, learner.contact(), course, offering, learner.requested(offering, uuid4())
    )
    return course


async def test_a_learners_data_holds_their_contact_messages_and_interest_and_nobody_elses(
    notifier: ServiceUnderTest, tokens: Any, sink: mail.MailSink
) -> None:
    ada, grace = Learner(), Learner(name="Grace Hopper")
    course = await enrolled(notifier, ada)
    await enrolled(notifier, grace)
    registered = await notifier.http.post(
        f"/micro-credentials/{course.code}/interest", json={"email": ada.email}
    )
    assert registered.status_code == 202
    await send_all(notifier, sink)
    headers = tokens("learner", ada.subject, email=ada.email, email_verified=True)
    await notifier.http.put("/learners/me/preferences", json={"reminders": False}, headers=headers)

    response = await notifier.http.get("/learners/me/data", headers=headers)

    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["service"], data["learner_id"]) == ("notifier", str(ada.id))
    assert data["contact"]["email"] == ada.email
    assert data["preferences"]["reminders"] is False
    assert [i["email"] for i in data["interest"]] == [ada.email]
    kinds = sorted(m["kind"] for m in data["messages"])
    assert kinds == ["enrolment_received", "interest_confirm"]
    assert len(data["enrolments"]) == 1
    assert grace.email not in response.text and "Grace" not in response.text
    staff = await notifier.http.get(f"/admin/learners/{ada.id}/data", headers=tokens("staff"))
    assert staff.json()["messages"] == data["messages"]


async def test_erasure_delivered_again_changes_nothing(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    ada = Learner()
    await enrolled(notifier, ada)
    await send_all(notifier, sink)
    erased = LearnerErased(learner_id=ada.id, erased_at=NOW)
    await deliver(notifier.app, erased)

    async def held() -> list[Any]:
        async with notifier.engine.connect() as conn:
            found = []
            for table in (tables.contact, tables.preference):
                query = select(func.count()).select_from(table)
                found.append(await conn.scalar(query.where(table.c.learner_id == ada.id)))
            rows = await conn.execute(select(tables.message).order_by(tables.message.c.seq))
            found.append([(m.kind, m.to_address, m.subject, m.facts) for m in rows])
            return found

    before = await held()
    assert await deliver(notifier.app, erased) == "applied"  # another copy, new event id
    assert await held() == before == [0, 0, [("enrolment_received", None, None, {})]]
