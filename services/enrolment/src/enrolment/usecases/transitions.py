"""What every decision on an existing enrolment shares: lock it in the service's lock
order, let the domain decide, save, stage the events, and offer a seat it freed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.envelope import Event
from enrolment import records, repository
from enrolment.domain import Enrolment, Offering
from enrolment.domain.eligibility import declaration_satisfied
from enrolment.tables import outbox
from enrolment.usecases import NotFound


@dataclass(frozen=True)
class Policy:
    """The configurable parts of the rules."""

    seat_hold: timedelta = timedelta(minutes=30)
    waitlist_offer: timedelta = timedelta(hours=48)
    language_entry_levels: tuple[str, ...] = ("A1",)


Decide = Callable[[Enrolment], Awaitable[list[Event]]]


async def emit(conn: AsyncConnection, events: Sequence[Event], now: datetime) -> None:
    for event in events:
        await outbox.add(conn, event, now=now)


async def decided(events: list[Event]) -> list[Event]:
    """A decision the domain took without needing anything more from the database."""
    return events


async def declaration_ok(conn: AsyncConnection, learner_id: UUID) -> bool:
    return declaration_satisfied(*await records.learner_facts(conn, learner_id))


async def transition(
    conn: AsyncConnection,
    enrolment_id: UUID,
    decide: Decide,
    *,
    now: datetime,
    policy: Policy | None = None,
    with_learner: bool = True,
    seats_unchanged: bool = False,
    **columns: Any,
) -> Enrolment:
    """Lock, decide, save, stage the events; a seat the decision freed goes to the waitlist.

    `seats_unchanged`: the decision can neither take nor free a seat, so the offering is
    not locked (`repository.lock_for_decision`); one that did all the same is refused."""
    item = await repository.lock_for_decision(
        conn, enrolment_id, with_learner=with_learner, with_offering=not seats_unchanged
    )
    if item is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    held_before = item.holds_seat
    events = await decide(item)
    if seats_unchanged and held_before != item.holds_seat:
        raise RuntimeError(f"enrolment {item.id}: a decision said to keep its seat changed it")
    await repository.save(conn, item, now=now, **columns)
    await emit(conn, events, now)
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
        await emit(conn, [event], now)
    return len(offered)
