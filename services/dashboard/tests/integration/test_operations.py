"""Whether an offering's schedule arrived in the dashboard (for the reconciler), and that a
re-announced OfferingScheduled leaves an opened offering open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import select

from credstack.contracts import catalogue
from credstack.testing import ServiceUnderTest, Tokens, deliver
from dashboard import tables

AT = datetime.now(UTC)


def scheduled(offering_id: UUID, micro_credential_id: UUID) -> catalogue.OfferingScheduled:
    return catalogue.OfferingScheduled(
        offering_id=offering_id,
        micro_credential_id=micro_credential_id,
        micro_credential_version=1,
        code="MC-OPS",
        title="Operations",
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=30),
        enrolment_opens_at=AT,
        enrolment_closes_at=AT + timedelta(days=5),
        capacity=20,
        delivery_mode="on-campus",
        fee_cents=1000,
    )


def opened(offering_id: UUID, micro_credential_id: UUID) -> catalogue.EnrolmentOpened:
    return catalogue.EnrolmentOpened(
        offering_id=offering_id,
        micro_credential_id=micro_credential_id,
        code="MC-OPS",
        title="Operations",
        enrolment_closes_at=AT + timedelta(days=5),
        opened_at=AT,
    )


async def known(dashboard: ServiceUnderTest, tokens: Tokens, offering_id: UUID) -> bool:
    response = await dashboard.http.get(f"/admin/offerings/{offering_id}", headers=tokens("staff"))
    assert response.status_code == 200, response.text
    return bool(response.json()["known"])


async def test_an_offering_is_known_once_its_schedule_arrived(
    dashboard: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id, item = uuid4(), uuid4()
    await deliver(dashboard.app, opened(offering_id, item))  # its schedule was lost
    before = await known(dashboard, tokens, offering_id)

    await deliver(dashboard.app, scheduled(offering_id, item))  # re-announced

    assert before is False
    assert await known(dashboard, tokens, offering_id) is True
    learner = await dashboard.http.get(f"/admin/offerings/{offering_id}", headers=tokens("learner"))
    assert learner.status_code == 403


async def test_a_re_announced_schedule_leaves_an_opened_offering_open(
    dashboard: ServiceUnderTest,
) -> None:
    offering_id, item = uuid4(), uuid4()
    await deliver(dashboard.app, scheduled(offering_id, item))
    await deliver(dashboard.app, opened(offering_id, item))

    await deliver(dashboard.app, scheduled(offering_id, item))

    async with dashboard.engine.connect() as conn:
        status = await conn.scalar(
            select(tables.offering_view.c.status).where(
                tables.offering_view.c.offering_id == offering_id
            )
        )
    assert status == "open"
