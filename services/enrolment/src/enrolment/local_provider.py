"""The dev stack's payment provider: a checkout page and Stripe-format, Stripe-signed webhooks.

It behaves as Stripe does in everything the enrolment service relies on: Checkout
Sessions carrying `client_reference_id` and metadata, card declines, delayed payment
methods, expiry, refunds, and webhooks signed exactly as Stripe signs them (with every
current secret during a rotation). Each action writes the session's new state and the
webhooks it owes in one transaction; a delivery loop posts them, retrying with backoff
until the endpoint accepts, so none is lost across restarts. Its tables live in this
service's schema but are used as another system's would be: only through this class.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now as clock_now
from credstack.refusals import Reason, Refusal
from enrolment.payments import CheckoutRequest, CheckoutSession, CheckoutState
from enrolment.stripe_format import (
    SessionPayment,
    SessionStatus,
    data_object,
    event,
    stripe_signature,
    unix_time,
)
from enrolment.tables import local_checkout_session as sessions
from enrolment.tables import local_webhook as webhooks

log = structlog.get_logger()

MAX_RETRY_SECONDS = 3600
DELIVERY_BATCH = 50
DELIVERIES_IN_FLIGHT = 8  # each takes one of the endpoint's database connections


@dataclass(frozen=True)
class LocalSession:
    """What the checkout page shows of a session."""

    id: str
    description: str
    amount_cents: int
    currency: str
    customer_email: str
    status: SessionStatus
    payment_status: SessionPayment
    expires_at: datetime


class CheckoutUnavailable(Refusal):
    """The session cannot take that action (expired, already paid, unknown)."""

    code = "checkout-unavailable"
    reason = Reason.CONFLICT


class UnknownSession(CheckoutUnavailable):
    code = "not-found"
    reason = Reason.NOT_FOUND


class LocalProvider:
    name = "local"
    minimum_session_seconds = 0

    def __init__(self, engine: AsyncEngine, *, public_url: str) -> None:
        self.engine = engine
        self.public_url = public_url.rstrip("/")
        # Set when a transaction that may owe webhooks commits: the delivery loop posts
        # them at once, as Stripe does, instead of at its next poll.
        self._owed = asyncio.Event()

    @asynccontextmanager
    async def _changing(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may owe webhooks; the delivery loop wakes once it commits."""
        async with self.engine.begin() as conn:
            yield conn
        self._owed.set()

    def page_url(self, session_id: str) -> str:
        return f"{self.public_url}/payments/local/checkout/{session_id}"

    # The port

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        session_id = f"cs_test_local_{uuid4().hex}"
        async with self.engine.begin() as conn:
            await conn.execute(
                sessions.insert().values(
                    id=session_id,
                    enrolment_id=request.enrolment_id,
                    amount_cents=request.amount_cents,
                    currency=request.currency,
                    description=request.description,
                    customer_email=request.customer_email,
                    metadata=request.metadata,
                    success_url=request.success_url,
                    cancel_url=request.cancel_url,
                    status=SessionStatus.OPEN,
                    payment_status=SessionPayment.UNPAID,
                    payment_intent_id=f"pi_local_{uuid4().hex[:24]}",
                    amount_refunded_cents=0,
                    expires_at=request.expires_at,
                    created_at=clock_now(),
                )
            )
        return CheckoutSession(
            id=session_id, url=self.page_url(session_id), expires_at=request.expires_at
        )

    async def checkout_state(self, session_id: str) -> CheckoutState:
        async with self.engine.connect() as conn:
            row = await self._session(conn, session_id)
        return CheckoutState(
            session_id=row.id,
            status=row.status,
            payment_status="unpaid"  # Stripe's word for a failed delayed payment
            if row.payment_status == SessionPayment.FAILED
            else row.payment_status,
            amount_total=row.amount_cents,
            currency=row.currency,
            payment_intent_id=row.payment_intent_id
            if row.status == SessionStatus.COMPLETE
            else None,
            amount_refunded_cents=row.amount_refunded_cents,
            payment_failed=row.payment_status == SessionPayment.FAILED,
        )

    async def expire_checkout(self, session_id: str) -> CheckoutState:
        async with self._changing() as conn:
            row = await self._session(conn, session_id, for_update=True)
            if row.status == SessionStatus.OPEN:
                await self._change(
                    conn,
                    row,
                    clock_now(),
                    ["checkout.session.expired"],
                    status=SessionStatus.EXPIRED,
                )
        return await self.checkout_state(session_id)

    async def refund(
        self, *, enrolment_id: UUID, payment_intent_id: str, amount_cents: int
    ) -> None:
        async with self._changing() as conn:
            row = (
                await conn.execute(
                    select(sessions)
                    .where(sessions.c.payment_intent_id == payment_intent_id)
                    .with_for_update()
                )
            ).first()
            if row is None or row.payment_status != SessionPayment.PAID:
                raise CheckoutUnavailable(f"No paid payment {payment_intent_id} to refund.")
            refunded = min(row.amount_cents, row.amount_refunded_cents + amount_cents)
            if refunded == row.amount_refunded_cents:
                return
            await self._change(
                conn, row, clock_now(), ["charge.refunded"], amount_refunded_cents=refunded
            )

    # What the learner does on the checkout page

    async def pay(self, session_id: str, *, now: datetime) -> str:
        """Pay by card; returns where to send the learner. Paying a paid session again
        changes nothing (a payer's retry after a lost answer)."""
        async with self._changing() as conn:
            row = await self._session(conn, session_id, for_update=True)
            if row.status == SessionStatus.COMPLETE and row.payment_status == SessionPayment.PAID:
                return str(row.success_url)
            row = await self._payable(conn, session_id, now)
            await self._change(
                conn,
                row,
                now,
                ["payment_intent.succeeded", "checkout.session.completed"],
                status=SessionStatus.COMPLETE,
                payment_status=SessionPayment.PAID,
            )
        return str(row.success_url)

    async def pay_by_bank_debit(self, session_id: str, *, now: datetime) -> None:
        """A delayed method: the session completes unpaid; the bank settles later."""
        async with self._changing() as conn:
            row = await self._payable(conn, session_id, now)
            await self._change(
                conn, row, now, ["checkout.session.completed"], status=SessionStatus.COMPLETE
            )

    async def settle(self, session_id: str, *, succeeded: bool, now: datetime) -> None:
        """The bank's answer for a delayed payment."""
        async with self._changing() as conn:
            row = await self._session(conn, session_id, for_update=True)
            if row.status != SessionStatus.COMPLETE or row.payment_status != SessionPayment.UNPAID:
                raise CheckoutUnavailable("This session has no payment waiting to settle.")
            if succeeded:
                await self._change(
                    conn,
                    row,
                    now,
                    ["payment_intent.succeeded", "checkout.session.async_payment_succeeded"],
                    payment_status=SessionPayment.PAID,
                )
            else:
                await self._change(
                    conn,
                    row,
                    now,
                    ["payment_intent.payment_failed", "checkout.session.async_payment_failed"],
                    payment_status=SessionPayment.FAILED,
                )

    async def decline(self, session_id: str, *, now: datetime) -> None:
        """The card is declined; the session stays open for another attempt."""
        async with self._changing() as conn:
            row = await self._payable(conn, session_id, now)
            await self._change(conn, row, now, ["payment_intent.payment_failed"])

    async def session(self, session_id: str) -> LocalSession:
        async with self.engine.connect() as conn:
            row = await self._session(conn, session_id)
        return LocalSession(
            id=row.id,
            description=row.description,
            amount_cents=row.amount_cents,
            currency=row.currency,
            customer_email=row.customer_email,
            status=SessionStatus(row.status),
            payment_status=SessionPayment(row.payment_status),
            expires_at=row.expires_at,
        )

    # Stripe's own behaviour: sessions expire; webhooks are delivered until accepted

    async def expire_overdue(self, *, now: datetime) -> int:
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(sessions)
                    .where(sessions.c.status == SessionStatus.OPEN, sessions.c.expires_at <= now)
                    .with_for_update(skip_locked=True)
                    .limit(50)
                )
            ).all()
            for row in rows:
                await self._change(
                    conn, row, now, ["checkout.session.expired"], status=SessionStatus.EXPIRED
                )
        return len(rows)

    async def deliver_pending(
        self, http: httpx.AsyncClient, *, url: str, secrets: Sequence[str], now: datetime
    ) -> int:
        """Post the webhooks that are due, signed; returns how many the endpoint accepted.
        The rows stay locked until their outcomes are written, so two loops never post the
        same webhook at once, and one not acknowledged is tried again."""
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(webhooks.c.id, webhooks.c.payload, webhooks.c.attempts)
                    .where(webhooks.c.delivered_at.is_(None), webhooks.c.next_attempt_at <= now)
                    .order_by(webhooks.c.id)
                    .limit(DELIVERY_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            errors = await self._post_all(http, url, secrets, [r.payload for r in rows], now)
            for row, error in zip(rows, errors, strict=True):
                attempts = row.attempts + 1
                values: dict[str, Any] = {"attempts": attempts, "last_error": error}
                if error is None:
                    values["delivered_at"] = now
                else:
                    log.warning("local_payments.webhook_failed", error=error, attempts=attempts)
                    backoff = min(MAX_RETRY_SECONDS, 2**attempts)
                    values["next_attempt_at"] = now + timedelta(seconds=backoff)
                await conn.execute(update(webhooks).where(webhooks.c.id == row.id).values(values))
        return errors.count(None)

    async def _post_all(
        self,
        http: httpx.AsyncClient,
        url: str,
        secrets: Sequence[str],
        payloads: list[Any],
        now: datetime,
    ) -> list[str | None]:
        """Each payload's delivery error (None: accepted). One enrolment's webhooks go one
        after another, in the order they were owed (as this provider always sent them);
        different enrolments' go concurrently, `DELIVERIES_IN_FLIGHT` at a time."""
        errors: list[str | None] = [None] * len(payloads)
        queues: dict[str, list[int]] = {}
        for index, payload in enumerate(payloads):
            metadata = payload["data"]["object"].get("metadata") or {}
            queues.setdefault(str(metadata.get("enrolment_id", index)), []).append(index)
        gate = asyncio.Semaphore(DELIVERIES_IN_FLIGHT)

        async def in_order(indices: list[int]) -> None:
            async with gate:
                for index in indices:
                    errors[index] = await self._post(http, url, secrets, payloads[index], now)

        await asyncio.gather(*(in_order(indices) for indices in queues.values()))
        return errors

    @staticmethod
    async def _post(
        http: httpx.AsyncClient, url: str, secrets: Sequence[str], payload: Any, now: datetime
    ) -> str | None:
        """Post one webhook; None when the endpoint accepted it, else why not."""
        body = json.dumps(payload).encode()
        try:
            response = await http.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": stripe_signature(body, secrets, unix_time(now)),
                },
            )
        except httpx.HTTPError as failure:
            return f"{type(failure).__name__}: {failure}"
        return (
            None if response.is_success else f"HTTP {response.status_code}: {response.text[:500]}"
        )

    async def run(self, *, url: str, secrets: Sequence[str], poll_seconds: float) -> None:
        """The provider's own loop in the dev stack: expire sessions every `poll_seconds`;
        deliver webhooks as soon as an action owes them (and every `poll_seconds`, for
        retries and those owed before a restart)."""
        expired_at = 0.0
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(timeout=10.0) as http:
            while True:
                self._owed.clear()
                now = clock_now()
                if loop.time() - expired_at >= poll_seconds:
                    expired_at = loop.time()
                    await self.expire_overdue(now=now)
                delivered = await self.deliver_pending(http, url=url, secrets=secrets, now=now)
                if delivered == DELIVERY_BATCH:
                    continue  # more may be due
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._owed.wait(), poll_seconds)

    # Internals

    async def _session(
        self, conn: AsyncConnection, session_id: str, for_update: bool = False
    ) -> Any:
        query = select(sessions).where(sessions.c.id == session_id)
        row = (await conn.execute(query.with_for_update() if for_update else query)).first()
        if row is None:
            raise UnknownSession(f"No checkout session {session_id}.")
        return row

    async def _payable(self, conn: AsyncConnection, session_id: str, now: datetime) -> Any:
        row = await self._session(conn, session_id, for_update=True)
        if row.status == SessionStatus.OPEN and row.expires_at <= now:
            await self._change(
                conn, row, now, ["checkout.session.expired"], status=SessionStatus.EXPIRED
            )
            raise CheckoutUnavailable("This checkout session has expired.")
        if row.status != SessionStatus.OPEN:
            raise CheckoutUnavailable(f"This checkout session is {row.status}.")
        return row

    async def _change(
        self,
        conn: AsyncConnection,
        row: Any,
        now: datetime,
        event_types: list[str],
        **changes: Any,
    ) -> None:
        """Apply `changes` to the session and owe one webhook per event type, atomically."""
        if changes:
            await conn.execute(update(sessions).where(sessions.c.id == row.id).values(changes))
        current = {**row._mapping, **changes}
        for event_type in event_types:
            event_id = f"evt_local_{uuid4().hex[:24]}"
            await conn.execute(
                webhooks.insert().values(
                    event_id=event_id,
                    payload=event(
                        event_id,
                        event_type,
                        data_object(event_type, current, self.page_url(current["id"])),
                        now,
                    ),
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
