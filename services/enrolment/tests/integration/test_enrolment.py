"""Enrolling over HTTP: learners, idempotency, seats under concurrency, the waitlist."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import func, select

from credstack.testing import ServiceUnderTest, Tokens
from enrolment import tables

from .steps import (
    enrol,
    enrolled,
    events_of,
    learner,
    offering,
    register,
    session_event,
    session_of,
    status,
    types,
    view,
    webhook,
)


async def test_a_paid_enrolment_holds_a_seat_and_is_confirmed_by_the_providers_webhook(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrolled(enrolment, tokens, offering_id)
    assert created["status"] == "pending_payment"
    assert created["payment"]["status"] == "unpaid"
    assert created["hold_expires_at"] is not None
    assert "checkout" in created["next_step"]

    session_id = await session_of(enrolment, tokens, created["id"])
    paid = await webhook(
        enrolment, session_event("checkout.session.completed", created["id"], session_id=session_id)
    )

    assert paid.status_code == 200
    assert paid.json()["outcome"] == "confirmed, payment paid"
    confirmed = await enrolment.http.get(
        f"/enrolments/{created['id']}", headers=learner(tokens, "ada")
    )
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["payment"]["amount_paid_cents"] == 129500
    events = await events_of(enrolment)
    assert types(events) == ["EnrolmentRequested", "EnrolmentConfirmed"]
    data = events[1]["data"]
    # Contact details travel only on enrolment.contacts; other events carry the learner id.
    assert (data["learner_name"], data["email"]) == (None, None)
    assert (data["amount_paid_cents"], data["currency"]) == (129500, "AUD")
    assert data["offering_id"] == str(offering_id)
    assert data["micro_credential_version"] == 1


async def test_a_free_enrolment_confirms_without_payment(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await enrolled(enrolment, tokens, await offering(enrolment, fee_cents=0))
    assert created["status"] == "confirmed"
    assert created["payment"]["status"] == "not_required"
    assert types(await events_of(enrolment)) == ["EnrolmentRequested", "EnrolmentConfirmed"]


async def test_the_same_idempotency_key_and_body_returns_the_first_response(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    await register(enrolment, tokens)
    first = await enrol(enrolment, tokens, offering_id, key="k-1")
    again = await enrol(enrolment, tokens, offering_id, key="k-1")
    other_body = await enrol(enrolment, tokens, offering_id, key="k-1", language_experience=True)
    missing = await enrolment.http.post(
        "/enrolments", json={"offering_id": str(offering_id)}, headers=learner(tokens)
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert other_body.status_code == 422
    assert other_body.json()["type"].endswith("/idempotency-key-reused")
    assert missing.status_code == 422
    async with enrolment.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.enrolment)) == 1


async def test_concurrent_learners_cannot_oversell_the_last_seats(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=2)
    names = [f"learner-{n}" for n in range(10)]
    for name in names:
        await register(enrolment, tokens, name)

    responses = await asyncio.gather(
        *(enrol(enrolment, tokens, offering_id, name=name) for name in names)
    )

    assert [r.status_code for r in responses] == [201] * 10
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["pending_payment"] * 2 + ["waitlisted"] * 8
    waitlisted = [r.json()["id"] for r in responses if r.json()["status"] == "waitlisted"]
    positions = [(await view(enrolment, tokens, i))["waitlist_position"] for i in waitlisted]
    assert sorted(positions) == list(range(1, 9))
    availability = await enrolment.http.get(f"/offerings/{offering_id}/availability")
    assert (availability.json()["seats_free"], availability.json()["waitlist_length"]) == (0, 8)


async def test_a_learner_enrols_once_per_offering(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    first = await enrolled(enrolment, tokens, offering_id)
    second = await enrol(enrolment, tokens, offering_id)
    assert second.status_code == 409
    assert second.json()["type"].endswith("/already-enrolled")
    assert second.json()["enrolment_id"] == first["id"]


async def test_a_learner_needs_a_verified_email_and_a_profile(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    unverified = await enrolment.http.put(
        "/learners/me",
        json={"name_on_credential": "Eve"},
        headers=tokens("learner", "eve", email="eve@example.org", email_verified=False),
    )
    no_profile = await enrol(enrolment, tokens, offering_id, name="eve")

    assert unverified.status_code == 403
    assert unverified.json()["type"].endswith("/email-not-verified")
    assert no_profile.status_code == 409
    assert no_profile.json()["type"].endswith("/profile-required")
    assert await events_of(enrolment) == []


async def test_a_profile_keeps_the_name_for_the_credential_and_an_optional_university_id(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    saved = await enrolment.http.put(
        "/learners/me",
        json={
            "name_on_credential": "  Ada King, Countess of Lovelace ",
            "university_id": "u1234567",
        },
        headers=learner(tokens),
    )
    bad_id = await enrolment.http.put(
        "/learners/me",
        json={"name_on_credential": "Ada", "university_id": "u123 4567"},
        headers=learner(tokens),
    )
    profile = await enrolment.http.get("/learners/me", headers=learner(tokens))

    assert saved.status_code == 200
    assert profile.json()["name_on_credential"] == "Ada King, Countess of Lovelace"
    assert profile.json()["university_id"] == "u1234567"
    assert profile.json()["email"] == "ada@example.org"
    assert profile.json()["integrity_declaration"]["satisfied"] is False
    assert bad_id.status_code == 422


async def test_a_learner_sees_only_their_own_enrolments_staff_see_all(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrolled(enrolment, tokens, offering_id)
    other = await enrolment.http.get(f"/enrolments/{created['id']}", headers=learner(tokens, "eve"))
    staff = await enrolment.http.get(f"/enrolments/{created['id']}", headers=tokens("staff"))
    mine = await enrolment.http.get("/enrolments", headers=learner(tokens))
    eves = await enrolment.http.get("/enrolments", headers=learner(tokens, "eve"))

    assert other.status_code == 404
    assert staff.status_code == 200
    assert [e["id"] for e in mine.json()["items"]] == [created["id"]]
    assert mine.json()["items"][0]["payment"]["status"] == "unpaid"
    assert eves.json() == {"items": [], "next_cursor": None}


async def test_a_learners_enrolments_come_newest_first_a_page_at_a_time(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    older = await enrolled(enrolment, tokens, await offering(enrolment))
    newer = await enrolled(enrolment, tokens, await offering(enrolment))

    first = await enrolment.http.get("/enrolments", params={"limit": 1}, headers=learner(tokens))
    cursor = first.json()["next_cursor"]
    second = await enrolment.http.get(
        "/enrolments", params={"limit": 1, "cursor": cursor}, headers=learner(tokens)
    )
    forged = await enrolment.http.get(
        "/enrolments", params={"cursor": "bm90IG91cnM"}, headers=learner(tokens)
    )

    assert [e["id"] for e in first.json()["items"]] == [newer["id"]]
    assert [e["id"] for e in second.json()["items"]] == [older["id"]]
    assert second.json()["next_cursor"] is None
    assert forged.status_code == 400
    assert forged.json()["type"].endswith("/malformed-cursor")


async def test_enrolling_in_an_unknown_or_closed_offering_is_refused(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    await register(enrolment, tokens)
    unknown = await enrol(enrolment, tokens, uuid4())
    closed_offering = await offering(
        enrolment, enrolment_closes_at=datetime.now(UTC) - timedelta(hours=1)
    )
    closed = await enrol(enrolment, tokens, closed_offering)

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert closed.status_code == 409
    assert closed.json()["type"].endswith("/offering-closed")
    assert await events_of(enrolment) == []


async def test_a_waitlisted_learner_is_offered_the_seat_a_cancellation_frees(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, capacity=1)
    first = await enrolled(enrolment, tokens, offering_id, "ada")
    second = await enrolled(enrolment, tokens, offering_id, "bob")
    third = await enrolled(enrolment, tokens, offering_id, "cy")
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
    assert third["waitlist_position"] == 2

    left = await enrolment.http.post(
        f"/enrolments/{first['id']}/cancel", headers=learner(tokens, "ada")
    )

    assert left.json()["status"] == "cancelled"
    assert await status(enrolment, tokens, second["id"]) == "seat_offered"
    assert await status(enrolment, tokens, third["id"]) == "waitlisted"
    offered = [
        e for e in await events_of(enrolment) if e["type"].endswith("WaitlistSeatOffered.v1")
    ]
    assert [e["data"]["enrolment_id"] for e in offered] == [second["id"]]
    assert offered[0]["data"].get("email") is None  # the address is on enrolment.contacts
    assert offered[0]["data"]["offer_expires_at"]

    accepted = await enrolment.http.post(
        f"/enrolments/{second['id']}/accept-seat", headers=learner(tokens, "bob")
    )
    assert accepted.json()["status"] == "pending_payment"
    assert accepted.json()["hold_expires_at"] is not None


async def test_only_the_learner_may_accept_their_seat_and_only_when_offered(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment)
    created = await enrolled(enrolment, tokens, offering_id)
    someone_else = await enrolment.http.post(
        f"/enrolments/{created['id']}/accept-seat", headers=learner(tokens, "eve")
    )
    not_offered = await enrolment.http.post(
        f"/enrolments/{created['id']}/accept-seat", headers=learner(tokens, "ada")
    )
    assert someone_else.status_code == 404
    assert not_offered.status_code == 409
    assert not_offered.json()["type"].endswith("/wrong-status")


async def test_an_enrolment_carries_the_email_the_identity_provider_verifies_now(
    enrolment: ServiceUnderTest, tokens: Tokens
) -> None:
    offering_id = await offering(enrolment, fee_cents=0)
    await register(enrolment, tokens)
    moved = learner(tokens, "ada", email="ada@new.example.org")

    unverified = await enrolment.http.post(
        "/enrolments",
        json={"offering_id": str(offering_id)},
        headers={**learner(tokens, "ada", email_verified=False), "Idempotency-Key": "k-1"},
    )
    created = await enrolment.http.post(
        "/enrolments",
        json={"offering_id": str(offering_id)},
        headers={**moved, "Idempotency-Key": "k-2"},
    )
    profile = await enrolment.http.get("/learners/me", headers=moved)

    assert unverified.status_code == 403
    assert created.json()["email"] == "ada@new.example.org"
    assert profile.json()["email"] == "ada@new.example.org"
    confirmed = (await events_of(enrolment))[-1]
    assert confirmed["type"].endswith("EnrolmentConfirmed.v1")
    assert "email" not in confirmed["data"] or confirmed["data"]["email"] is None
    contacts = await events_of(enrolment, "enrolment.contacts")
    assert [c["type"].split(".")[2] for c in contacts] == ["LearnerContactChanged"] * 2
    assert [c["data"]["email"] for c in contacts] == ["ada@example.org", "ada@new.example.org"]
    assert {c["subject"] for c in contacts} == {confirmed["data"]["learner_id"]}
