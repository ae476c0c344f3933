"""Payment facts: checkout sessions, the provider's events (applied once, monotonically)
and refunds. Calls to the provider itself are in `payment_flows`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.envelope import Event
from enrolment import repository
from enrolment.domain import Enrolment, PaymentStatus
from enrolment.domain.states import SETTLED
from enrolment.payments import PaymentNotice, Signal
from enrolment.tables import payment_event
from enrolment.usecases.transitions import Policy, declaration_ok, transition

log = structlog.get_logger()


class Outcome(StrEnum):
    """What a provider's event did, where it did not change an enrolment's state (which
    is then the outcome: "confirmed, payment paid")."""

    NO_CHANGE = "no change"
    IGNORED = "ignored"
    NOT_OURS = "not an enrolment of ours"
    FLAGGED = "flagged for staff"


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

    # A checkout only extends the hold of a seat already held: the offering is not locked.
    return await transition(conn, enrolment_id, decide, now=now, seats_unchanged=True)


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
    target = await repository.enrolment_for_notice(conn, notice) if notice else None
    enrolment_id = target[0] if target else None
    if notice is not None and target is not None and _changes_nothing(notice, target[1]):
        # Already applied (the second webhook of every payment): recorded in one statement,
        # without the locks and the enrolment's write that would change nothing.
        recorded = await _record(
            conn, event_id, event_type, payload, now, enrolment_id, Outcome.NO_CHANGE
        )
        return Outcome.NO_CHANGE if recorded else None
    if not await _record(conn, event_id, event_type, payload, now, None, None):
        return None  # received before; the outcome is recorded when it is applied
    outcome: str = Outcome.IGNORED
    if notice is not None:
        if enrolment_id is None:
            outcome = Outcome.NOT_OURS
        else:
            outcome = await apply_payment_notice(
                conn, enrolment_id, notice, provider=provider, policy=policy, now=now
            )
    await conn.execute(
        update(payment_event)
        .where(payment_event.c.id == event_id)
        .values(enrolment_id=enrolment_id, outcome=str(outcome))
    )
    return str(outcome)


def _changes_nothing(notice: PaymentNotice, payment_status: PaymentStatus) -> bool:
    """Whether the notice is proved to change nothing by the payment status alone, read
    without a lock: money received (`PAID`, `PROCESSING`) changes nothing once the payment
    is settled (`Enrolment.payment_succeeded`, `payment_processing`), and no decision takes
    a settled payment out of `SETTLED`, so a later state would not change it either."""
    return notice.signal in (Signal.PAID, Signal.PROCESSING) and payment_status in SETTLED


async def _record(
    conn: AsyncConnection,
    event_id: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
    enrolment_id: UUID | None,
    outcome: str | None,
) -> bool:
    """Record the event (with what it did, if known yet), once: False if received before."""
    recorded = await conn.execute(
        insert(payment_event)
        .values(
            id=event_id,
            type=event_type,
            received_at=now,
            payload=payload,
            enrolment_id=enrolment_id,
            outcome=outcome,
        )
        .on_conflict_do_nothing()
        .returning(payment_event.c.id)
    )
    return recorded.first() is not None


async def _apply(
    conn: AsyncConnection, item: Enrolment, notice: PaymentNotice, provider: str, now: datetime
) -> list[Event]:
    match notice.signal:
        case Signal.PAID:
            return item.payment_succeeded(
                amount_cents=notice.amount_cents,
                currency=notice.currency,
                declaration_ok=await declaration_ok(conn, item.learner_id),
                session_id=notice.session_id,
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


async def apply_payment_notice(
    conn: AsyncConnection,
    enrolment_id: UUID,
    notice: PaymentNotice,
    *,
    provider: str,
    policy: Policy,
    now: datetime,
) -> str:
    """Apply one payment fact, monotonically; returns what it did (`Outcome.NO_CHANGE` for
    a duplicate or a late signal that a later state overrides)."""
    before: tuple[object, ...] = ()

    async def decide(item: Enrolment) -> list[Event]:
        nonlocal before
        before = (item.status, item.payment_status, item.amount_refunded_cents, item.payment_flag)
        return await _apply(conn, item, notice, provider, now)

    item = await transition(
        conn,
        enrolment_id,
        decide,
        now=now,
        policy=policy,
        # Money received keeps a held seat held (confirmed, or waiting for the declaration)
        # and takes none back for an enrolment that lost it (the money is due back).
        seats_unchanged=notice.signal in (Signal.PAID, Signal.PROCESSING),
    )
    after = (item.status, item.payment_status, item.amount_refunded_cents, item.payment_flag)
    if after[:3] == before[:3] and after[3] != before[3]:
        log.warning("payments.flagged_for_staff", enrolment_id=str(item.id), why=item.payment_flag)
        return f"{Outcome.FLAGGED}: {item.payment_flag}"
    if after == before:
        return Outcome.NO_CHANGE
    return f"{item.status.value}, payment {item.payment_status.value}"


async def request_refund(conn: AsyncConnection, enrolment_id: UUID, *, now: datetime) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        item.request_refund()
        return []

    return await transition(conn, enrolment_id, decide, now=now)


async def refund_sent(conn: AsyncConnection, enrolment_id: UUID, *, now: datetime) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        item.refund_sent(now)
        return []

    return await transition(conn, enrolment_id, decide, now=now)
