"""Enrolment use cases: load, decide, stage events. The caller owns the transaction.

Lock order, everywhere: the learner (advisory lock), then the offering's row, then
enrolment rows. Seats are counted under the offering's row lock; a decision that
frees a seat offers it to the waitlist in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack import locks
from credstack.contracts.catalogue import OfferingCancelled, OfferingRescheduled
from credstack.contracts.envelope import Event
from enrolment import repository
from enrolment.domain import Enrolment, Offering, Status
from enrolment.eligibility import (
    EnrolmentError,
    LearnerRecord,
    check_language,
    check_prerequisites,
    declaration_satisfied,
    missing_prerequisites,
)
from enrolment.payments import PaymentNotice, Signal
from enrolment.tables import integrity_declaration, learner, offering, outbox, payment_event


class NotFound(EnrolmentError):
    code = "not-found"


class ProfileRequired(EnrolmentError):
    code = "profile-required"


class AlreadyEnrolled(EnrolmentError):
    code = "already-enrolled"


class DeclarationOutdated(EnrolmentError):
    code = "declaration-outdated"


@dataclass(frozen=True)
class Policy:
    """The configurable parts of the rules."""

    seat_hold: timedelta = timedelta(minutes=30)
    waitlist_offer: timedelta = timedelta(hours=48)
    language_entry_levels: tuple[str, ...] = ("A1",)


async def _emit(conn: AsyncConnection, events: Sequence[Event], now: datetime) -> None:
    for event in events:
        await outbox.add(conn, event, now=now)


async def _declaration_ok(conn: AsyncConnection, learner_id: UUID) -> bool:
    return declaration_satisfied(
        await repository.learner_record(conn, learner_id),
        await repository.current_declaration_version(conn),
    )


# Learners and the academic-integrity declaration


async def save_profile(
    conn: AsyncConnection,
    *,
    learner_id: UUID,
    subject: str,
    email: str,
    name_on_credential: str,
    university_id: str | None,
    now: datetime,
) -> None:
    """Create or update a learner's profile; the email is the identity provider's verified one."""
    values = {
        "email": email,
        "name_on_credential": name_on_credential,
        "university_id": university_id,
        "updated_at": now,
    }
    await conn.execute(
        insert(learner)
        .values(id=learner_id, subject=subject, created_at=now, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def publish_declaration(
    conn: AsyncConnection, *, text: str, published_by: str, now: datetime
) -> int:
    """A new version of the declaration's text becomes the current one."""
    await locks.lock(conn, "integrity-declaration")
    version = (await repository.current_declaration_version(conn) or 0) + 1
    await conn.execute(
        integrity_declaration.insert().values(
            version=version, text=text, published_by=published_by, published_at=now
        )
    )
    return version


async def accept_declaration(
    conn: AsyncConnection, *, learner_id: UUID, version: int, now: datetime
) -> list[UUID]:
    """Record the learner's acceptance of the current declaration; confirms the enrolments
    that waited for it. Returns their ids."""
    await repository.lock_learner(conn, learner_id)
    if await repository.learner_row(conn, learner_id) is None:
        raise ProfileRequired("Create your learner profile (PUT /learners/me) first.")
    current = await repository.current_declaration_version(conn)
    if current is None or version != current:
        raise DeclarationOutdated(
            f"Version {version} is not the current declaration (version {current}); "
            "read and accept the current one.",
            current_version=current,
        )
    await conn.execute(
        update(learner)
        .where(learner.c.id == learner_id)
        .values(declaration_version=version, declaration_accepted_at=now, updated_at=now)
    )
    waiting = await repository.of_learner_in(conn, learner_id, Status.AWAITING_DECLARATION)
    for enrolment_id in waiting:
        await _transition(
            conn, enrolment_id, lambda item: _decided(item.accept_declaration(now)), now=now
        )
    return waiting


async def _decided(events: list[Event]) -> list[Event]:
    """A decision the domain took without needing anything more from the database."""
    return events


# Enrolling


async def enrol(
    conn: AsyncConnection,
    *,
    learner_id: UUID,
    learner_subject: str,
    email: str,
    offering_id: UUID,
    language_experience: bool | None,
    experience_statement: str | None,
    policy: Policy,
    now: datetime,
) -> Enrolment:
    """A new enrolment of the learner (whose verified `email` it carries) in the offering."""
    await repository.lock_learner(conn, learner_id)
    profile = await repository.learner_row(conn, learner_id)
    if profile is None:
        raise ProfileRequired(
            "Create your learner profile (PUT /learners/me) with the name to appear on "
            "your credential before enrolling."
        )
    if profile.email != email:
        await conn.execute(
            update(learner).where(learner.c.id == learner_id).values(email=email, updated_at=now)
        )
    target = await repository.get_offering(conn, offering_id, for_update=True)
    if target is None:
        raise NotFound(f"No offering {offering_id} is known to the enrolment service.")
    if existing := await repository.active_enrolment_of(conn, learner_id, offering_id):
        raise AlreadyEnrolled(
            f"You already have enrolment {existing} in this offering.", enrolment_id=str(existing)
        )
    target.check_open(now)
    requirements = await repository.requirements(conn, offering_id)
    record = await repository.learner_record(conn, learner_id)
    check_language(
        requirements,
        record,
        declared_experience=language_experience,
        entry_levels=policy.language_entry_levels,
    )
    eligible = check_prerequisites(requirements, record, experience_statement=experience_statement)
    created, events = Enrolment.request(
        enrolment_id=uuid4(),
        learner_id=learner_id,
        learner_name=profile.name_on_credential,
        email=email,
        offering=target,
        eligible=eligible,
        seats_free=await repository.seats_free(conn, target),
        declaration_ok=declaration_satisfied(
            record, await repository.current_declaration_version(conn)
        ),
        hold_until=now + policy.seat_hold,
        at=now,
        language_experience=language_experience,
        experience_statement=experience_statement,
    )
    await repository.insert(conn, created, learner_subject=learner_subject, now=now)
    await _emit(conn, events, now)
    return created


# Every later decision goes through `_transition`


Decide = Callable[[Enrolment], Awaitable[list[Event]]]


async def _transition(
    conn: AsyncConnection,
    enrolment_id: UUID,
    decide: Decide,
    *,
    now: datetime,
    policy: Policy | None = None,
    with_learner: bool = True,
    **columns: Any,
) -> Enrolment:
    """Lock, decide, save, stage the events; a seat the decision freed goes to the waitlist."""
    item = await repository.lock_for_decision(conn, enrolment_id, with_learner=with_learner)
    if item is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    held_before = item.holds_seat
    events = await decide(item)
    await repository.save(conn, item, now=now, **columns)
    await _emit(conn, events, now)
    if held_before and not item.holds_seat:
        await fill_from_waitlist(conn, item.offering, policy=policy or Policy(), now=now)
    return item


async def fill_from_waitlist(
    conn: AsyncConnection, target: Offering, *, policy: Policy, now: datetime
) -> int:
    """Offer every free seat to the next waitlisted learners; the offering is locked."""
    if not target.offers_freed_seats(now):
        return 0
    free = await repository.seats_free(conn, target)
    if free <= 0:
        return 0
    offered = await repository.waitlisted(conn, target, limit=free)
    for item in offered:
        event = item.offer_seat(offer_expires_at=now + policy.waitlist_offer, at=now)
        await repository.save(conn, item, now=now)
        await _emit(conn, [event], now)
    return len(offered)


async def decide_eligibility(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    approved: bool,
    note: str,
    decided_by: str,
    policy: Policy,
    now: datetime,
) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        return item.decide_eligibility(
            approved=approved,
            note=note,
            seats_free=await repository.seats_free(conn, item.offering),
            declaration_ok=await _declaration_ok(conn, item.learner_id),
            hold_until=now + policy.seat_hold,
            at=now,
        )

    return await _transition(
        conn,
        enrolment_id,
        decide,
        now=now,
        policy=policy,
        eligibility_decided_by=decided_by,
        eligibility_note=note,
    )


async def accept_seat(
    conn: AsyncConnection, enrolment_id: UUID, *, policy: Policy, now: datetime
) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        return item.accept_seat(
            declaration_ok=await _declaration_ok(conn, item.learner_id),
            hold_until=now + policy.seat_hold,
            at=now,
        )

    return await _transition(conn, enrolment_id, decide, now=now, policy=policy)


async def cancel_by_learner(
    conn: AsyncConnection, enrolment_id: UUID, *, policy: Policy, now: datetime
) -> Enrolment:
    return await _transition(
        conn,
        enrolment_id,
        lambda item: _decided(item.cancel_by_learner(now)),
        now=now,
        policy=policy,
    )


async def withdraw(
    conn: AsyncConnection, enrolment_id: UUID, *, reason: str, policy: Policy, now: datetime
) -> Enrolment:
    return await _transition(
        conn,
        enrolment_id,
        lambda item: _decided(item.withdraw(reason=reason, at=now)),
        now=now,
        policy=policy,
    )


async def transfer(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    to_offering_id: UUID,
    policy: Policy,
    now: datetime,
) -> Enrolment:
    """Move the enrolment to another offering; its seat in the old one goes to the waitlist."""
    current = await repository.get(conn, enrolment_id)
    if current is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    await repository.lock_learner(conn, current.learner_id)
    locked: dict[UUID, Offering] = {}
    for offering_id in sorted({current.offering.id, to_offering_id}):
        found = await repository.get_offering(conn, offering_id, for_update=True)
        if found is None:
            raise NotFound(f"No offering {offering_id}.")
        locked[offering_id] = found
    item = await repository.get(conn, enrolment_id, for_update=True)
    if item is None or item.offering.id != current.offering.id:
        raise EnrolmentError("The enrolment changed meanwhile; try again.")
    source, target = locked[item.offering.id], locked[to_offering_id]
    event = item.transfer(to=target, seats_free=await repository.seats_free(conn, target), at=now)
    await repository.save(conn, item, now=now)
    await _emit(conn, [event], now)
    await fill_from_waitlist(conn, source, policy=policy, now=now)
    return item


# Payment


async def checkout_started(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    session_id: str,
    url: str,
    expires_at: datetime,
    now: datetime,
) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        item.checkout_started(session_id=session_id, url=url, expires_at=expires_at)
        return []

    return await _transition(conn, enrolment_id, decide, now=now)


async def record_provider_event(
    conn: AsyncConnection,
    *,
    event_id: str,
    event_type: str,
    payload: dict[str, Any],
    notice: PaymentNotice | None,
    provider: str,
    policy: Policy,
    now: datetime,
) -> str | None:
    """Apply one provider event once. The outcome, or None when it was already received."""
    claimed = await conn.execute(
        insert(payment_event)
        .values(id=event_id, type=event_type, received_at=now, payload=payload)
        .on_conflict_do_nothing()
        .returning(payment_event.c.id)
    )
    if claimed.first() is None:
        return None
    enrolment_id: UUID | None = None
    outcome = "ignored"
    if notice is not None:
        enrolment_id = await repository.enrolment_for_notice(conn, notice)
        if enrolment_id is None:
            outcome = "not an enrolment of ours"
        else:
            outcome = await apply_payment_notice(
                conn, enrolment_id, notice, provider=provider, policy=policy, now=now
            )
    await conn.execute(
        update(payment_event)
        .where(payment_event.c.id == event_id)
        .values(enrolment_id=enrolment_id, outcome=outcome)
    )
    return outcome


async def apply_payment_notice(
    conn: AsyncConnection,
    enrolment_id: UUID,
    notice: PaymentNotice,
    *,
    provider: str,
    policy: Policy,
    now: datetime,
) -> str:
    """Apply one payment fact, monotonically; returns what it did ("no change" for a
    duplicate or a late signal that a later state overrides)."""
    before: tuple[Any, ...] = ()

    async def decide(item: Enrolment) -> list[Event]:
        nonlocal before
        before = (item.status, item.payment_status, item.amount_refunded_cents)
        match notice.signal:
            case Signal.PAID:
                return item.payment_succeeded(
                    amount_cents=notice.amount_cents or item.fee_cents,
                    declaration_ok=await _declaration_ok(conn, item.learner_id),
                    payment_intent_id=notice.payment_intent_id,
                    at=now,
                )
            case Signal.PROCESSING:
                item.payment_processing(at=now, payment_intent_id=notice.payment_intent_id)
                return []
            case Signal.ATTEMPT_FAILED:
                return item.payment_attempt_failed(reason=notice.reason, provider=provider, at=now)
            case Signal.FAILED:
                return item.payment_failed_finally(reason=notice.reason, provider=provider, at=now)
            case Signal.EXPIRED:
                if notice.session_id not in (None, item.checkout_session_id):
                    return []  # an abandoned older session, not the one holding the seat
                return item.checkout_expired(now)
            case Signal.REFUNDED:
                return item.refund_recorded(
                    amount_refunded_cents=notice.amount_refunded_cents, provider=provider, at=now
                )
        raise ValueError(f"unknown payment signal {notice.signal}")

    item = await _transition(conn, enrolment_id, decide, now=now, policy=policy)
    after = (item.status, item.payment_status, item.amount_refunded_cents)
    return (
        "no change"
        if after == before
        else f"{item.status.value}, payment {item.payment_status.value}"
    )


async def request_refund(conn: AsyncConnection, enrolment_id: UUID, *, now: datetime) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        item.request_refund()
        return []

    return await _transition(conn, enrolment_id, decide, now=now)


async def refund_sent(conn: AsyncConnection, enrolment_id: UUID, *, now: datetime) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        item.refund_sent(now)
        return []

    return await _transition(conn, enrolment_id, decide, now=now)


# Timers (run by the sweeper)


async def lapse_offer(
    conn: AsyncConnection, enrolment_id: UUID, *, policy: Policy, now: datetime
) -> Enrolment:
    return await _transition(
        conn, enrolment_id, lambda item: _decided(item.offer_lapsed(now)), now=now, policy=policy
    )


# The catalogue's offerings


async def offering_rescheduled(
    conn: AsyncConnection, event: OfferingRescheduled, *, policy: Policy, now: datetime
) -> None:
    """New dates or capacity; more capacity means seats for the waitlist."""
    if await repository.get_offering(conn, event.offering_id, for_update=True) is None:
        return
    await conn.execute(
        update(offering)
        .where(offering.c.id == event.offering_id)
        .values(
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            enrolment_opens_at=event.enrolment_opens_at,
            enrolment_closes_at=event.enrolment_closes_at,
            capacity=event.capacity,
        )
    )
    changed = await repository.get_offering(conn, event.offering_id)
    if changed is not None:
        await fill_from_waitlist(conn, changed, policy=policy, now=now)


async def offering_cancelled(
    conn: AsyncConnection, event: OfferingCancelled, *, now: datetime
) -> None:
    """Every active enrolment is cancelled; money received is due back."""
    if await repository.get_offering(conn, event.offering_id, for_update=True) is None:
        return
    await conn.execute(
        update(offering).where(offering.c.id == event.offering_id).values(status="cancelled")
    )
    for enrolment_id in await repository.in_active_offering(conn, event.offering_id):
        await _transition(
            conn,
            enrolment_id,
            lambda item: _decided(item.offering_cancelled(reason=event.reason, at=now)),
            now=now,
            with_learner=False,
        )


# Credentials the learner holds


async def reconsider_awaiting_approval(
    conn: AsyncConnection, learner_id: UUID, *, policy: Policy, now: datetime
) -> None:
    """A learner who now holds every prerequisite no longer needs staff approval."""
    await repository.lock_learner(conn, learner_id)
    record: LearnerRecord = await repository.learner_record(conn, learner_id)
    for enrolment_id in await repository.of_learner_in(conn, learner_id, Status.AWAITING_APPROVAL):
        item = await repository.get(conn, enrolment_id)
        if item is None:
            continue
        requirements = await repository.requirements(conn, item.offering.id)
        if not missing_prerequisites(requirements, record):
            await decide_eligibility(
                conn,
                enrolment_id,
                approved=True,
                note="every prerequisite is now held",
                decided_by="credentials held",
                policy=policy,
                now=now,
            )
