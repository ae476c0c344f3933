"""Kafka producer and consumer from settings; the consume loop with inbox, retries and DLQ.

Each message is handled in one database transaction together with its inbox row; the
offset is committed after that transaction. A handler that keeps failing is retried with
exponential backoff, then parked: written to the service's `parked_event` table (staff
can list and replay it) and published to `<service>.dlq` with the error. A database or
broker outage is not the event's fault: those errors are retried until they pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
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
)
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now
from credstack.contracts.envelope import Event, MalformedEvent, Received, parse
from credstack.inbox import Inbox
from credstack.observability import EVENTS_CONSUMED, span_from

log = structlog.get_logger()

Handler = Callable[[AsyncConnection, Any, Received], Awaitable[None]]
Handlers = Mapping[type[Event], Handler]

TOPIC_PARTITIONS = 3


def make_producer(bootstrap_servers: str, *, idempotence: bool) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=idempotence,
        acks="all",
        linger_ms=2,
        request_timeout_ms=10_000,
    )


async def ensure_topics(bootstrap_servers: str, topics: list[str]) -> None:
    """Create the topics that do not exist yet (the broker may not auto-create them)."""
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
        )


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError | InterfaceError | KafkaConnectionError | ConnectionError)


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
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
                for partition, messages in batches.items():
                    for message in messages:
                        await self.handle(message)
                        await consumer.commit({partition: message.offset + 1})
        finally:
            await consumer.stop()

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
                if _is_outage(error):
                    log.warning("consumer.outage", event_id=str(received.id), error=str(error))
                    await asyncio.sleep(min(5.0, self.backoff_seconds * 2 ** min(attempt, 5)))
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
        """Apply a parked event again (after a fix); the inbox still prevents a double effect."""
        received = parse(payload)
        handler = self.handlers.get(type(received.event)) if received else None
        if received is None or handler is None:
            return "ignored"
        return await self.apply(received, handler)
