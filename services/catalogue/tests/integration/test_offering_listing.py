"""What the public website shows of an upcoming offering beyond its dates: its sessions
(when, and at a venue or online) as staff plan them, and the seats left, kept from the
enrolment service's events (the catalogue imports no other service)."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from credstack.contracts.enrolment import (
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
)
from credstack.testing import ServiceUnderTest, Tokens, deliver

from .steps import publish, schedule

STARTS = date.today() + timedelta(days=30)
ENDS = STARTS + timedelta(days=14)
CANBERRA_STANDARD = timezone(timedelta(hours=10))


def at(day: date, hour: int) -> str:
    """An aware time on `day` in Canberra's standard time (UTC+10)."""
    return datetime(
        day.year, day.month, day.day, hour, tzinfo=timezone(timedelta(hours=10))
    ).isoformat()


FIRST = {
    "starts_at": at(STARTS, 18),
    "ends_at": at(STARTS, 21),
    "venue": "Acton campus, Hanna Neumann Building, room 1.23",
}
SECOND = {
    "starts_at": at(STARTS + timedelta(days=7), 18),
    "ends_at": at(STARTS + timedelta(days=7), 21),
    "online": True,
    "join_note": "The Zoom link is emailed the day before",
}
DATES = {"starts_on": STARTS.isoformat(), "ends_on": ENDS.isoformat()}


async def _offering(catalogue: ServiceUnderTest, tokens: Tokens, **plan: Any) -> UUID:
    response = await schedule(catalogue, tokens, "MC-DATA-101", **DATES, **plan)
    assert response.status_code == 201, response.text
    return UUID(response.json()["id"])


async def _listed(catalogue: ServiceUnderTest, offering_id: UUID) -> dict[str, Any]:
    items = (await catalogue.http.get("/offerings")).json()["items"]
    (found,) = [o for o in items if o["id"] == str(offering_id)]
    return dict(found)


def confirmed(offering_id: UUID, enrolment_id: UUID | None = None) -> EnrolmentConfirmed:
    return EnrolmentConfirmed(
        enrolment_id=enrolment_id or uuid4(),
        learner_id=uuid4(),
        offering_id=offering_id,
        micro_credential_id=uuid4(),
        micro_credential_version=1,
        confirmed_at=datetime.now(UTC),
    )


async def test_an_offering_shows_its_sessions_in_time_order_with_venue_or_online(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-DATA-101")
    offering_id = await _offering(
        catalogue, tokens, contact_sessions=2, sessions=[SECOND, FIRST], capacity=25
    )

    listed = await _listed(catalogue, offering_id)
    detail = (await catalogue.http.get("/micro-credentials/MC-DATA-101")).json()

    first, second = listed["sessions"]
    assert datetime.fromisoformat(first["starts_at"]) == datetime.fromisoformat(FIRST["starts_at"])
    assert (first["venue"], first["online"], first["join_note"]) == (FIRST["venue"], False, None)
    assert (second["venue"], second["online"]) == (None, True)
    assert second["join_note"] == "The Zoom link is emailed the day before"
    assert listed["seats_left"] == 25
    assert detail["upcoming_offerings"][0]["sessions"] == listed["sessions"]


async def test_sessions_that_do_not_fit_the_offering_are_refused_each_named(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-DATA-101")
    late = {**FIRST, "starts_at": at(ENDS + timedelta(days=1), 18)}
    backwards = {**FIRST, "ends_at": at(STARTS, 17)}
    both = {**SECOND, "venue": "Room 1"}
    noted = {**FIRST, "join_note": "bring a laptop"}

    refused = await schedule(
        catalogue,
        tokens,
        "MC-DATA-101",
        **DATES,
        contact_sessions=5,
        sessions=[FIRST, late, backwards, both, noted, {**SECOND}],
    )
    naive = await schedule(
        catalogue,
        tokens,
        "MC-DATA-101",
        **DATES,
        sessions=[{**FIRST, "starts_at": FIRST["starts_at"][:-6]}],
    )

    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    late_start, first_start = late["starts_at"], FIRST["starts_at"]
    assert f"the session starting {late_start} is outside the offering's dates" in detail
    assert f"the session starting {first_start} must end after it starts" in detail
    assert "either at a venue or online" in detail
    assert "a join note is for an online session" in detail
    assert "contact_sessions is 5 but the plan lists 6 sessions" in detail
    assert naive.status_code == 422
    assert (await catalogue.http.get("/offerings")).json()["items"] == []


async def test_rescheduling_keeps_sessions_that_fit_and_replaces_them_when_given(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-DATA-101")
    offering_id = await _offering(catalogue, tokens, sessions=[FIRST])
    now = datetime.now(UTC)
    later = STARTS + timedelta(days=7)
    moved = {
        "starts_on": later.isoformat(),
        "ends_on": (later + timedelta(days=14)).isoformat(),
        "enrolment_opens_at": (now - timedelta(days=1)).isoformat(),
        "enrolment_closes_at": (now + timedelta(days=20)).isoformat(),
        "capacity": 30,
    }
    staff = tokens("staff")

    stranded = await catalogue.http.patch(f"/offerings/{offering_id}", json=moved, headers=staff)
    replaced = await catalogue.http.patch(
        f"/offerings/{offering_id}",
        json=moved | {"sessions": [{**SECOND, "venue": None}]},
        headers=staff,
    )

    assert stranded.status_code == 422, stranded.text
    assert "outside the offering's dates" in stranded.json()["detail"]
    assert replaced.status_code == 200, replaced.text
    (session,) = (await _listed(catalogue, offering_id))["sessions"]
    assert session["online"] is True


async def test_seats_left_follow_the_enrolment_services_events_once_each(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "MC-DATA-101")
    offering_id = await _offering(catalogue, tokens, capacity=3)
    other_id = await _offering(catalogue, tokens, capacity=3)
    event_id = uuid4()
    priya, lee, sam = confirmed(offering_id), confirmed(offering_id), confirmed(offering_id)

    assert await deliver(catalogue.app, priya, event_id=event_id) == "applied"
    assert await deliver(catalogue.app, priya, event_id=event_id) == "duplicate"
    await deliver(catalogue.app, lee)
    await deliver(catalogue.app, sam)
    assert (await _listed(catalogue, offering_id))["seats_left"] == 0

    await deliver(
        catalogue.app,
        EnrolmentWithdrawn(
            enrolment_id=lee.enrolment_id,
            learner_id=lee.learner_id,
            offering_id=offering_id,
            reason="moved interstate",
            withdrawn_at=datetime.now(UTC),
        ),
    )
    await deliver(
        catalogue.app,
        EnrolmentTransferred(
            enrolment_id=sam.enrolment_id,
            learner_id=sam.learner_id,
            from_offering_id=offering_id,
            to_offering_id=other_id,
            micro_credential_id=sam.micro_credential_id,
            micro_credential_version=1,
            transferred_at=datetime.now(UTC),
        ),
    )
    assert (await _listed(catalogue, offering_id))["seats_left"] == 2
    assert (await _listed(catalogue, other_id))["seats_left"] == 2

    await deliver(
        catalogue.app,
        EnrolmentCancelled(
            enrolment_id=priya.enrolment_id,
            reason="refunded",
            cancelled_at=datetime.now(UTC),
        ),
    )
    await deliver(
        catalogue.app,
        EnrolmentCancelled(
            enrolment_id=uuid4(), reason="payment expired", cancelled_at=datetime.now(UTC)
        ),
    )
    assert (await _listed(catalogue, offering_id))["seats_left"] == 3


async def test_seats_left_never_go_below_zero(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    """Staff may lower the capacity below the confirmed enrolments (or seat one more)."""
    await publish(catalogue, tokens, "MC-DATA-101")
    offering_id = await _offering(catalogue, tokens, capacity=1)
    await deliver(catalogue.app, confirmed(offering_id))
    await deliver(catalogue.app, confirmed(offering_id))

    assert (await _listed(catalogue, offering_id))["seats_left"] == 0
