"""Kafka producer and consumer from settings; the consume loop with inbox, retries and DLQ.

The consumer applies what one fetch brought from a partition as a batch: in offset order
(so per-key order holds), in one database transaction with one inbox row per event, and
commits the partition's offset once after that transaction. When anything in a batch
fails, the transaction is rolled back and that batch is applied again one message at a
time, each in its own transaction with its inbox row and its own offset commit — the
retries, parking and outage handling below are exactly those of a single message, and no
message of the batch is lost or applied twice. A handler that keeps failing is retried with
exponential backoff, then parked: written to the service's `parked_event` table (staff
can list and replay it) and published to `<service>.dlq` with the error. Parked events are
retried automatically on a growing schedule (`retry_parked`) before they need staff.

A transient error is not the event's fault and never parks it: a database or broker
outage, and the errors PostgreSQL answers when a transaction merely lost a race or the
server is busy (serialization failure, deadlock, lock timeout, admin shutdown, too many
connections; see `TRANSIENT_SQLSTATES`), and a connection pool that stayed exhausted for
its timeout. Those are retried with backoff until they pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now
from credstack.contracts.envelope import Event, MalformedEvent, Received, parse
from credstack.inbox import Inbox
from credstack.observability import EVENTS_CONSUMED, span_from, within_trace
from credstack.outages import OUTAGES, kind_of
from credstack.refusals import Reason, Refusal

log = structlog.get_logger()

Handler = Callable[[AsyncConnection, Any, Received], Awaitable[None]]
Handlers = Mapping[type[Event], Handler]
BatchScope = Callable[[AsyncConnection], contextlib.AbstractAsyncContextManager[Any]]
"""Wraps the handlers of one batch, inside its transaction (the issuer signs the batch's
credentials together on the way out); what it raises fails the batch like a handler."""

TOPIC_PARTITIONS = 3


def make_producer(bootstrap_servers: str, *, idempotence: bool) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=idempotence,
        acks="all",
        linger_ms=2,
        request_timeout_ms=10_000,
    )


async def ensure_topics(bootstrap_servers: str, topics: list[str]) -> list[str]:
    """Create the topics that do not exist yet (the broker may not auto-create them, or
    would with its own partition count); returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=t, num_partitions=TOPIC_PARTITIONS, replication_factor=1)
            for t in topics
            if t not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            log.info("broker.topics_created", topics=[t.name for t in missing])
        return [t.name for t in missing]
    finally:
        await admin.close()


class ParkedEvents:
    """Events that failed every retry, kept for staff to inspect and replay."""

    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "parked_event",
            metadata,
            Column("id", BigInteger, Identity(always=True), primary_key=True),
            Column("topic", String, nullable=False),
            Column("partition", Integer, nullable=False),
            Column("offset", BigInteger, nullable=False),
            Column("key", String),
            Column("payload", Text, nullable=False),
            Column("error", Text, nullable=False),
            Column("parked_at", DateTime(timezone=True), nullable=False),
            Column("replayed_at", DateTime(timezone=True)),
            Column("retries", Integer, nullable=False, server_default="0"),
            Column("next_retry_at", DateTime(timezone=True)),
        )


TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available (lock_timeout, NOWAIT)
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up, in recovery)
        "53300",  # too_many_connections
        "53400",  # configuration_limit_exceeded
    }
)
"""SQLSTATEs that say "try again", not "this event is wrong"; class 08 (connection
exceptions) counts too."""


RACES = frozenset({"40001", "40P01", "55P03"})
"""Lost races between transactions, retried at once: not outages."""


def sqlstate_of(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind `error`: asyncpg's own exception, or SQLAlchemy's
    DBAPIError wrapping asyncpg's (`.orig`, whose cause is the asyncpg exception)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        pending.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return None


def is_transient(error: BaseException) -> bool:
    """An outage or a lost race: retrying later will succeed, so the event is never parked."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(
        error, OSError | InterfaceError | KafkaConnectionError | ConnectionError | PoolTimeout
    ):
        return True  # PoolTimeout: every connection of the pool stayed busy (overload)
    state = sqlstate_of(error)
    return state is not None and (state in TRANSIENT_SQLSTATES or state.startswith("08"))


class ReplayFailed(Refusal):
    """A parked event replayed by staff failed again; `error` says why."""

    code = "replay-failed"
    reason = Reason.CONFLICT


class ReplayUnavailable(Refusal):
    """A parked event could not be replayed because the database or broker is out."""

    code = "replay-unavailable"
    reason = Reason.UNAVAILABLE
    headers = {"Retry-After": "5"}


def parked_retry_delay(retries: int, base_seconds: float) -> float:
    """The wait before automatic retry number `retries + 1`: base, 4x, 16x, ..."""
    return float(base_seconds * 4**retries)


class EventConsumer:
    """Consumes the given topics as one consumer group and applies `handlers` exactly once."""

    def __init__(
        self,
        *,
        service: str,
        bootstrap_servers: str,
        topics: list[str],
        engine: AsyncEngine,
        inbox: Inbox,
        parked: ParkedEvents,
        handlers: Handlers,
        dead_letter_producer: AIOKafkaProducer,
        max_attempts: int = 5,
        backoff_seconds: float = 0.2,
        parked_retry_seconds: float = 30.0,
        parked_max_retries: int = 5,
        batch_size: int = 200,
        batch_scope: BatchScope | None = None,
    ) -> None:
        self.service = service
        self.bootstrap_servers = bootstrap_servers
        self.topics = topics
        self.engine = engine
        self.inbox = inbox
        self.parked = parked
        self.handlers = handlers
        self.dead_letters = dead_letter_producer
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.parked_retry_seconds = parked_retry_seconds
        self.parked_max_retries = parked_max_retries
        self.batch_size = max(1, batch_size)
        self.batch_scope = batch_scope

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.service,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5_000,
        )
        await consumer.start()
        log.info("consumer.started", topics=self.topics)
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=self.batch_size)
                for partition, messages in batches.items():
                    if not messages:
                        continue
                    if await self.handle_batch(messages):
                        await consumer.commit({partition: messages[-1].offset + 1})
                        continue
                    for message in messages:  # the batch failed: one by one, as always
                        await self.handle(message)
                        await consumer.commit({partition: message.offset + 1})
        finally:
            await consumer.stop()

    async def handle_batch(self, messages: Sequence[ConsumerRecord[bytes, bytes]]) -> bool:
        """Apply one partition's messages in order in one transaction; False (nothing
        applied) when the batch must be applied one message at a time instead: a message
        is malformed (it is parked by `handle`), or anything in the batch failed."""
        if len(messages) < 2:
            return False
        items: list[tuple[Received, Handler | None, str | None]] = []
        unknown = 0
        for message in messages:
            try:
                received = parse(message.value or b"")
            except MalformedEvent:
                return False
            if received is None:
                unknown += 1
                continue
            headers = {k: v.decode(errors="replace") for k, v in message.headers or ()}
            traceparent = headers.get("traceparent") or received.traceparent
            items.append((received, self.handlers.get(type(received.event)), traceparent))
        try:
            outcomes = await self.apply_batch(items)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.info(
                "consumer.batch_failed",
                size=len(messages),
                error=f"{type(error).__name__}: {error}",
                sqlstate=sqlstate_of(error),
                then="one by one",
            )
            return False
        for (received, _, traceparent), outcome in zip(items, outcomes, strict=True):
            if outcome != "ignored":
                with within_trace(traceparent):
                    log.info(
                        "event.consumed",
                        type=received.type,
                        event_id=str(received.id),
                        outcome=outcome,
                    )
            EVENTS_CONSUMED.labels(self.service, received.type, outcome).inc()
        if unknown:
            EVENTS_CONSUMED.labels(self.service, "unknown", "ignored").inc(unknown)
        return True

    async def apply_batch(
        self, items: Sequence[tuple[Received, Handler | None, str | None]]
    ) -> list[str]:
        """Claim the events' ids and run their handlers in order, in one transaction
        (within `batch_scope`, if given); each one's outcome (applied, duplicate or
        ignored). An event delivered twice in the same batch is applied once."""
        async with self.engine.begin() as conn:
            claimed = await self.inbox.claim_many(
                conn, [received for received, handler, _ in items if handler], now=now()
            )
            outcomes: list[str] = []
            scope = self.batch_scope(conn) if self.batch_scope else contextlib.nullcontext()
            async with scope:
                for received, handler, traceparent in items:
                    if handler is None:
                        outcomes.append("ignored")
                    elif received.id not in claimed:
                        outcomes.append("duplicate")
                    else:
                        claimed.discard(received.id)
                        with span_from(traceparent, f"consume {received.type}"):
                            await handler(conn, received.event, received)
                        outcomes.append("applied")
        return outcomes

    async def handle(self, message: ConsumerRecord[bytes, bytes]) -> None:
        """Apply one message; returns when it is applied, skipped or parked."""
        try:
            received = parse(message.value or b"")
        except MalformedEvent as error:
            await self._park(message, f"malformed event: {error}")
            return
        handler = self.handlers.get(type(received.event)) if received else None
        if received is None or handler is None:
            EVENTS_CONSUMED.labels(
                self.service, received.type if received else "unknown", "ignored"
            ).inc()
            return
        headers = {k: v.decode(errors="replace") for k, v in message.headers or ()}
        traceparent = headers.get("traceparent") or received.traceparent
        attempt = 0
        while True:
            attempt += 1
            try:
                with span_from(traceparent, f"consume {received.type}"):
                    outcome = await self.apply(received, handler)
                    log.info(
                        "event.consumed",
                        type=received.type,
                        event_id=str(received.id),
                        outcome=outcome,
                    )
                EVENTS_CONSUMED.labels(self.service, received.type, outcome).inc()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_transient(error):
                    state = sqlstate_of(error)
                    if state in RACES:
                        log.info(
                            "consumer.retry_transient",
                            event_id=str(received.id),
                            attempt=attempt,
                            sqlstate=state,
                        )
                    else:
                        OUTAGES.report(kind_of(error), error, consumer=self.service)
                    await asyncio.sleep(min(5.0, self.backoff_seconds * 2 ** min(attempt, 8)))
                    continue
                if attempt >= self.max_attempts:
                    log.exception("consumer.parked", event_id=str(received.id), type=received.type)
                    await self._park(message, f"{type(error).__name__}: {error}")
                    EVENTS_CONSUMED.labels(self.service, received.type, "parked").inc()
                    return
                log.warning(
                    "consumer.retry", event_id=str(received.id), attempt=attempt, error=str(error)
                )
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))

    async def apply(self, received: Received, handler: Handler) -> str:
        """Run the handler and claim the event id in one transaction."""
        async with self.engine.begin() as conn:
            if not await self.inbox.claim(conn, received, now=now()):
                return "duplicate"
            await handler(conn, received.event, received)
        return "applied"

    async def _park(self, message: ConsumerRecord[bytes, bytes], error: str) -> None:
        payload = (message.value or b"").decode("utf-8", errors="replace")
        key = message.key.decode("utf-8", errors="replace") if message.key else None
        async with self.engine.begin() as conn:
            await conn.execute(
                self.parked.table.insert().values(
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    key=key,
                    payload=payload,
                    error=error,
                    parked_at=now(),
                    next_retry_at=now() + timedelta(seconds=self.parked_retry_seconds),
                )
            )
        await self.dead_letters.send_and_wait(
            f"{self.service}.dlq",
            key=message.key,
            value=message.value,
            headers=[
                ("error", error.encode()),
                ("original-topic", message.topic.encode()),
                ("original-offset", str(message.offset).encode()),
            ],
        )

    async def replay(self, payload: str) -> str:
        """Apply a parked event again (after a fix); the inbox still prevents a double effect.

        Raises `ReplayFailed` (why, as a problem detail) when it fails again, and
        `ReplayUnavailable` when a transient error (an outage) stopped it.
        """
        try:
            received = parse(payload)
        except MalformedEvent as error:
            raise ReplayFailed(
                f"The parked event is malformed and cannot be applied: {error}",
                error=f"malformed event: {error}",
            ) from error
        handler = self.handlers.get(type(received.event)) if received else None
        if received is None or handler is None:
            return "ignored"
        try:
            return await self.apply(received, handler)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            why = f"{type(error).__name__}: {error}"
            if is_transient(error):
                raise ReplayUnavailable(
                    "The database or broker is unavailable; the event was not applied. "
                    "Try again shortly.",
                    error=why,
                    sqlstate=sqlstate_of(error),
                ) from error
            raise ReplayFailed(
                f"The event failed again and was not applied: {why}", error=why
            ) from error

    async def retry_parked_once(self) -> int:
        """Replay the parked events whose automatic retry is due; returns how many were tried.

        A success marks the row replayed. A failure schedules the next retry 4 times later;
        after `parked_max_retries` automatic retries the row waits for staff (no
        `next_retry_at`), its error updated to the latest.
        """
        t = self.parked.table
        async with self.engine.connect() as conn:
            due = (
                await conn.execute(
                    select(t.c.id, t.c.payload, t.c.retries)
                    .where(
                        t.c.replayed_at.is_(None),
                        t.c.next_retry_at.is_not(None),
                        t.c.next_retry_at <= now(),
                    )
                    .order_by(t.c.id)
                    .limit(100)
                )
            ).all()
        for row in due:
            values: dict[str, Any]
            try:
                outcome = await self.replay(row.payload)
                values = {"replayed_at": now(), "next_retry_at": None}
                log.info("parked.retried", parked_id=row.id, outcome=outcome)
            except ReplayUnavailable:
                raise  # an outage: the retrying loop waits and comes back
            except ReplayFailed as failed:
                retries = row.retries + 1
                later = None
                if retries < self.parked_max_retries:
                    delay = parked_retry_delay(retries, self.parked_retry_seconds)
                    later = now() + timedelta(seconds=delay)
                values = {
                    "retries": retries,
                    "next_retry_at": later,
                    "error": failed.facts["error"],
                }
                log.warning(
                    "parked.retry_failed", parked_id=row.id, retries=retries, next_retry_at=later
                )
            async with self.engine.begin() as conn:
                await conn.execute(update(t).where(t.c.id == row.id).values(**values))
        return len(due)

    async def retry_parked(self, poll_seconds: float | None = None) -> None:
        """Retry due parked events forever."""
        poll = poll_seconds or max(0.5, min(30.0, self.parked_retry_seconds / 2))
        while True:
            await self.retry_parked_once()
            await asyncio.sleep(poll)
