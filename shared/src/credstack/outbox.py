"""The transactional outbox: events are written with the state change, then relayed to Kafka.

`add` runs inside the caller's transaction and wakes the relay with NOTIFY (delivered
only on commit). The relay publishes pending rows in id order and marks them sent, under
a transaction-scoped advisory lock, so that with several replicas one relay publishes at
a time and per-key order holds. A crash between publish and mark re-publishes: delivery
is at least once, and every consumer deduplicates by event id in its inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now
from credstack.contracts.envelope import CONTENT_TYPE, Event, to_cloudevent
from credstack.contracts.topics import topic_of
from credstack.db import libpq_url
from credstack.observability import EVENTS_PUBLISHED, current_traceparent

log = structlog.get_logger()


class Outbox:
    def __init__(self, metadata: MetaData, *, service: str, topic: str, source: str) -> None:
        self.service = service
        self.topic = topic
        self.source = source
        self.channel = f"{metadata.schema}_outbox"
        self._lock_id = zlib.crc32(self.channel.encode())
        self.table = Table(
            "outbox",
            metadata,
            Column("id", BigInteger, Identity(always=True), primary_key=True),
            Column("event_id", PgUUID(as_uuid=True), nullable=False, unique=True),
            Column("topic", String, nullable=False),
            Column("key", String, nullable=False),
            Column("payload", JSONB, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("published_at", DateTime(timezone=True)),
            Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
        )

    async def add(
        self, conn: AsyncConnection, event: Event, *, now: datetime, topic: str | None = None
    ) -> UUID:
        """Stage `event` in the caller's transaction; it is published only if that commits."""
        event_id = uuid4()
        payload = to_cloudevent(
            event,
            event_id=event_id,
            time=now,
            source=self.source,
            traceparent=current_traceparent(),
        )
        await conn.execute(
            self.table.insert().values(
                event_id=event_id,
                # An event with a learner's contact details goes to its contact topic.
                topic=topic or (topic_of(type(event)) if event.contact_data else self.topic),
                key=event.key(),
                payload=payload,
                created_at=now,
            )
        )
        await conn.execute(select(func.pg_notify(self.channel, "")))
        return event_id

    async def publish_pending(
        self, engine: AsyncEngine, producer: AIOKafkaProducer, *, batch: int = 500
    ) -> int:
        """Publish one batch of pending rows in order; returns how many were published."""
        t = self.table
        async with engine.begin() as conn:
            if not await conn.scalar(select(func.pg_try_advisory_xact_lock(self._lock_id))):
                return 0
            rows = (
                await conn.execute(
                    select(t.c.id, t.c.topic, t.c.key, t.c.payload)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            deliveries = []
            for row in rows:
                headers = [("content-type", CONTENT_TYPE.encode())]
                if traceparent := row.payload.get("traceparent"):
                    headers.append(("traceparent", traceparent.encode()))
                deliveries.append(
                    await producer.send(
                        row.topic,
                        key=row.key.encode(),
                        value=json.dumps(row.payload).encode(),
                        headers=headers,
                    )
                )
            await asyncio.gather(*deliveries)
            await conn.execute(
                update(t).where(t.c.id.in_([row.id for row in rows])).values(published_at=now())
            )
        for row in rows:
            EVENTS_PUBLISHED.labels(self.service, row.topic).inc()
        return len(rows)

    async def relay(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        database_url: str,
        poll_seconds: float,
    ) -> None:
        """Publish forever: woken by NOTIFY, with polling as the fallback."""
        wake = asyncio.Event()
        listener = await _listen(database_url, self.channel, wake)
        try:
            while True:
                try:
                    while await self.publish_pending(engine, producer):
                        pass
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox.relay_failed", topic=self.topic)
                    await asyncio.sleep(poll_seconds)
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
        finally:
            if listener is not None:
                await listener.close()


async def _listen(
    database_url: str, channel: str, wake: asyncio.Event
) -> asyncpg.Connection | None:
    try:
        connection = await asyncpg.connect(libpq_url(database_url))
        await connection.add_listener(channel, lambda *_: wake.set())
        return connection
    except (OSError, asyncpg.PostgresError):
        log.warning("outbox.listen_unavailable", channel=channel, fallback="polling")
        return None
