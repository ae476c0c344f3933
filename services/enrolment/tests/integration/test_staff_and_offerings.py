"""Staff rosters, withdrawals and transfers; offering changes from the catalogue; lapsed offers."""

import csv
import io
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from credstack.contracts.catalogue import OfferingCancelled, OfferingRescheduled
from credstack.testing import ServiceUnderTest, Tokens, deliver
from enrolment import sweeper

from .steps import (
    accept_declaration,
    checkout,
    deliver_webhooks,
    enrol,
    enrolled,
    events_of,
    learner,
    offering,
    pay,
    status,
    types,
    view,
)
from .test_payments import flows


async def test_staff_see_the_roster_with_payment_status_and_export_it_as_csv(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=2)
    paid = await enrolled(enrolment, tokens, offering_id, "ada")
    await pay(enrolment, await checkout(enrolment, tokens, paid["id"]))
    await deliver_webhooks(enrolment)
    await enrolled(enrolment, tokens, offering_id, "bob")
    await enrolment.http.put(
        "/learners/me",
        json={"name_on_credential": "=HYPERLINK(1)", "university_id": "u7654321"},
        headers=learner(tokens, "cy"),
    )
    await accept_declaration(enrolment, tokens, "cy")
    await enrol(enrolment, tokens, offering_id, name="cy")

    roster = await enrolment.http.get(f"/offerings/{offering_id}/roster", headers=tokens("staff"))
    first = await enrolment.http.get(
        f"/offerings/{offering_id}/roster", params={"limit": 1}, headers=tokens("staff")
    )
    page = await enrolment.http.get(
        f"/offerings/{offering_id}/roster",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=tokens("staff"),
    )
    exported = await enrolment.http.get(
        f"/offerings/{offering_id}/roster.csv", headers=tokens("staff")
    )
    forbidden = await enrolment.http.get(
        f"/offerings/{offering_id}/roster", headers=learner(tokens, "ada")
    )

    body = roster.json()
    assert (body["capacity"], body["seats_free"], body["waitlist_length"]) == (2, 0, 1)
    assert [(e["learner_name"], e["status"], e["payment_status"]) for e in body["items"]] == [
        ("Ada", "confirmed", "paid"),
        ("Bob", "pending_payment", "unpaid"),
        ("=HYPERLINK(1)", "waitlisted", "unpaid"),
    ]
    assert body["items"][2]["university_id"] == "u7654321"
    assert [e["learner_name"] for e in page.json()["items"]] == ["Bob"]
    assert [e["learner_name"] for e in first.json()["items"]] == ["Ada"]
    assert page.json()["next_cursor"] is not None
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["email"], r["payment_status"], r["amount_paid_cents"]) for r in rows] == [
        ("ada@example.org", "paid", "129500"),
        ("bob@example.org", "unpaid", "0"),
        ("cy@example.org", "unpaid", "0"),
    ]
    assert rows[2]["learner_name"] == "'=HYPERLINK(1)", "no formula reaches a spreadsheet"
    assert forbidden.status_code == 403


async def test_the_roster_of_an_unknown_offering_is_a_404(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    for path in ("roster", "roster.csv"):
        response = await enrolment.http.get(f"/offerings/{uuid4()}/{path}", headers=tokens("staff"))
        assert response.status_code == 404


async def test_staff_withdraw_a_learner_and_the_seat_goes_to_the_waitlist(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=1, fee_cents=0)
    first = await enrolled(enrolment, tokens, offering_id, "ada")
    waiting = await enrolled(enrolment, tokens, offering_id, "bob")

    withdrawn = await enrolment.http.post(
        f"/enrolments/{first['id']}/withdraw",
        json={"reason": "changed jobs"},
        headers=tokens("staff"),
    )
    again = await enrolment.http.post(
        f"/enrolments/{first['id']}/withdraw",
        json={"reason": "changed jobs"},
        headers=tokens("staff"),
    )

    assert (withdrawn.json()["status"], withdrawn.json()["end_reason"]) == (
        "withdrawn",
        "changed jobs",
    )
    assert again.status_code == 409
    assert await status(enrolment, tokens, waiting["id"]) == "seat_offered"
    event = next(e for e in await events_of(enrolment) if e["type"].endswith("Withdrawn.v1"))
    assert event["data"]["reason"] == "changed jobs"


async def test_staff_transfer_a_paid_enrolment_to_another_cohort(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    micro_credential_id = uuid4()
    source = await offering(enrolment, capacity=1, micro_credential_id=micro_credential_id)
    target = await offering(enrolment, capacity=5, micro_credential_id=micro_credential_id)
    elsewhere = await offering(enrolment)
    moving = await enrolled(enrolment, tokens, source, "ada")
    waiting = await enrolled(enrolment, tokens, source, "bob")
    await pay(enrolment, await checkout(enrolment, tokens, moving["id"]))
    await deliver_webhooks(enrolment)

    refused = await enrolment.http.post(
        f"/enrolments/{moving['id']}/transfer",
        json={"to_offering_id": str(elsewhere)},
        headers=tokens("staff"),
    )
    moved = await enrolment.http.post(
        f"/enrolments/{moving['id']}/transfer",
        json={"to_offering_id": str(target)},
        headers=tokens("staff"),
    )

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/transfer-refused")
    assert (moved.json()["offering_id"], moved.json()["status"]) == (str(target), "confirmed")
    assert await status(enrolment, tokens, waiting["id"]) == "seat_offered"
    transferred = next(
        e for e in await events_of(enrolment) if e["type"].endswith("EnrolmentTransferred.v1")
    )
    assert (transferred["data"]["from_offering_id"], transferred["data"]["to_offering_id"]) == (
        str(source),
        str(target),
    )


async def test_a_seat_offer_not_taken_up_goes_to_the_next_learner(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=1)
    first = await enrolled(enrolment, tokens, offering_id, "ada")
    second = await enrolled(enrolment, tokens, offering_id, "bob")
    third = await enrolled(enrolment, tokens, offering_id, "cy")
    await enrolment.http.post(f"/enrolments/{first['id']}/cancel", headers=learner(tokens, "ada"))
    offer = await view(enrolment, tokens, second["id"])
    lapse = datetime.fromisoformat(offer["offer_expires_at"]) + timedelta(seconds=1)

    before = await sweeper.sweep(flows(enrolment), now=lapse - timedelta(hours=1))
    report = await sweeper.sweep(flows(enrolment), now=lapse)

    assert before.offers_lapsed == 0
    assert report.offers_lapsed == 1
    lapsed = await view(enrolment, tokens, second["id"])
    assert (lapsed["status"], lapsed["end_reason"]) == (
        "cancelled",
        "waitlist seat offer not taken up in time",
    )
    assert await status(enrolment, tokens, third["id"]) == "seat_offered"
    late = await enrolment.http.post(
        f"/enrolments/{second['id']}/accept-seat", headers=learner(tokens, "bob")
    )
    assert late.status_code == 409


async def test_more_capacity_offers_seats_to_the_waitlist(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=1)
    await enrolled(enrolment, tokens, offering_id, "ada")
    waiting = [await enrolled(enrolment, tokens, offering_id, n) for n in ("bob", "cy", "di")]
    now = datetime.now(UTC)

    rescheduled = OfferingRescheduled(
        offering_id=offering_id,
        starts_on=(now + timedelta(days=21)).date(),
        ends_on=(now + timedelta(days=70)).date(),
        enrolment_opens_at=now - timedelta(days=1),
        enrolment_closes_at=now + timedelta(days=14),
        capacity=3,
        rescheduled_at=now,
    )
    assert await deliver(enrolment.app, rescheduled) == "applied"

    assert [await status(enrolment, tokens, w["id"]) for w in waiting] == [
        "seat_offered",
        "seat_offered",
        "waitlisted",
    ]


async def test_a_cancelled_offering_cancels_its_enrolments_and_refunds_what_was_paid(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=1)
    paid = await enrolled(enrolment, tokens, offering_id, "ada")
    waiting = await enrolled(enrolment, tokens, offering_id, "bob")
    await pay(enrolment, await checkout(enrolment, tokens, paid["id"]))
    await deliver_webhooks(enrolment)

    cancelled = OfferingCancelled(
        offering_id=offering_id, reason="convenor unavailable", cancelled_at=datetime.now(UTC)
    )
    assert await deliver(enrolment.app, cancelled) == "applied"
    due = await view(enrolment, tokens, paid["id"])
    report = await sweeper.sweep(flows(enrolment), now=datetime.now(UTC))
    await deliver_webhooks(enrolment)

    assert (due["status"], due["payment"]["status"]) == ("withdrawn", "refund_due")
    assert await status(enrolment, tokens, waiting["id"]) == "cancelled"
    assert report.refunds_sent == 1
    refunded = await view(enrolment, tokens, paid["id"])
    assert refunded["payment"]["status"] == "refunded"
    assert types(await events_of(enrolment))[-2:] == ["EnrolmentCancelled", "PaymentRefunded"]
    availability = await enrolment.http.get(f"/offerings/{offering_id}/availability")
    assert (availability.json()["status"], availability.json()["enrolment_open"]) == (
        "cancelled",
        False,
    )


async def test_a_redelivered_catalogue_event_is_a_no_op(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    event = OfferingCancelled(offering_id=offering_id, reason="x", cancelled_at=datetime.now(UTC))
    event_id = uuid4()
    assert await deliver(enrolment.app, event, event_id=event_id) == "applied"
    assert await deliver(enrolment.app, event, event_id=event_id) == "duplicate"
