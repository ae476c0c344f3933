"""What the reconciler asks the enrolment service: published versions it knows, and
payments reconciled with the provider (`POST /admin/payments/reconcile`)."""

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from sqlalchemy import update

from credstack.contracts.catalogue import LearningOutcome, MicroCredentialPublished
from credstack.testing import ServiceUnderTest, Tokens, deliver
from enrolment import tables

from .steps import (
    checkout,
    deliver_webhooks,
    enrolled,
    events_of,
    offering,
    pay,
    status,
    types,
)

RECONCILE = "/admin/payments/reconcile"


def published(micro_credential_id: UUID, version: int = 1) -> MicroCredentialPublished:
    return MicroCredentialPublished(
        micro_credential_id=micro_credential_id,
        version=version,
        code="MC-DATA-101",
        title="Data Cleaning",
        description="Profiling and cleaning datasets.",
        learning_outcomes=[LearningOutcome(id="LO1", description="Profile a dataset")],
        credit_points=Decimal(3),
        notional_hours=Decimal(65),
        cpd_hours=Decimal(65),
        published_at=datetime.now(UTC),
    )


async def test_the_reconciler_asks_whether_a_published_version_arrived(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    item = uuid4()
    await deliver(enrolment.app, published(item))
    await deliver(enrolment.app, published(item))  # a re-announcement: a new event id

    known = await enrolment.http.get(
        f"/admin/micro-credentials/{item}/versions/1", headers=tokens("staff")
    )
    other_version = await enrolment.http.get(
        f"/admin/micro-credentials/{item}/versions/2", headers=tokens("staff")
    )
    learner = await enrolment.http.get(
        f"/admin/micro-credentials/{item}/versions/1", headers=tokens("learner")
    )

    assert known.json() == {"micro_credential_id": str(item), "version": 1, "known": True}
    assert other_version.json()["known"] is False
    assert learner.status_code == 403


async def test_a_lost_payment_webhook_is_found_and_confirms_the_enrolment_exactly_once(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await enrolled(enrolment, tokens, await offering(enrolment))
    await pay(enrolment, await checkout(enrolment, tokens, created["id"]))
    async with enrolment.engine.begin() as conn:  # marked delivered, never delivered
        await conn.execute(update(tables.local_webhook).values(delivered_at=datetime.now(UTC)))

    preview = await enrolment.http.post(
        RECONCILE, params={"dry_run": "true"}, headers=tokens("staff")
    )
    still = await status(enrolment, tokens, created["id"])
    repaired = await enrolment.http.post(RECONCILE, headers=tokens("staff"))
    again = await enrolment.http.post(RECONCILE, headers=tokens("staff"))
    async with enrolment.engine.begin() as conn:  # and the webhooks arrive after all
        await conn.execute(update(tables.local_webhook).values(delivered_at=None))
    late = await deliver_webhooks(enrolment)

    expected = {
        "enrolment_id": created["id"],
        "before": "pending_payment, payment unpaid",
        "after": "confirmed, payment paid",
    }
    assert preview.status_code == 200, preview.text
    assert [{k: r[k] for k in expected} for r in preview.json()["repairs"]] == [expected]
    assert still == "pending_payment"
    assert repaired.json()["repairs"] == preview.json()["repairs"]
    assert again.json() | {"dry_run": True} == {
        "dry_run": True,
        "checked": 1,
        "repairs": [],
        "disagreements": [],
        "unreachable": [],
    }
    assert late == 2
    assert await status(enrolment, tokens, created["id"]) == "confirmed"
    assert types(await events_of(enrolment)).count("EnrolmentConfirmed") == 1


async def test_an_enrolment_paid_here_but_unpaid_at_the_provider_is_reported_not_changed(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await enrolled(enrolment, tokens, await offering(enrolment))
    page = await checkout(enrolment, tokens, created["id"])
    await pay(enrolment, page)
    await deliver_webhooks(enrolment)
    async with enrolment.engine.begin() as conn:  # the provider's record says otherwise
        await conn.execute(
            update(tables.local_checkout_session).values(payment_status="unpaid", status="complete")
        )

    found = await enrolment.http.post(RECONCILE, headers=tokens("staff"))

    assert found.json()["repairs"] == []
    [disagreement] = found.json()["disagreements"]
    assert disagreement["enrolment_id"] == created["id"]
    assert disagreement["here"] == "confirmed, payment paid"
    assert await status(enrolment, tokens, created["id"]) == "confirmed"


async def test_only_operators_reconcile_payments(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    response = await enrolment.http.post(RECONCILE, headers=tokens("learner"))
    too_long = await enrolment.http.post(
        RECONCILE, params={"since_days": 1000}, headers=tokens("staff")
    )

    assert (response.status_code, too_long.status_code) == (403, 422)
