"""The transactional outbox: events are written with the state change, then relayed to Kafka.

`add` runs inside the caller's transaction and wakes the relay with NOTIFY (delivered
only on commit). The relay publishes pending rows in id order and marks them sent, under
a transaction-scoped advisory lock, so that with several replicas one relay publishes at
a time and per-key order holds. A crash between publish and mark re-publishes: delivery
is at least once, and every consumer deduplicates by event id in its inbox.

A broker can lose acknowledged events (the embedded Tansu keeps its log in memory). So
published rows are kept for a retention window, and when the relay sees that the broker
lost its log — an acknowledged offset lower than one acknowledged before on the same
partition, a partition's end offset below what was acknowledged, or a topic gone — it
marks the window's rows pending again and re-publishes them in order (consumers dedupe
by event id and by decision sequence, so this is safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
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
from credstack.outages import OUTAGES, kind_of

log = structlog.get_logger()


class Outbox:
    def __init__(self, metadata: MetaData, *, service: str, topic: str, source: str) -> None:
        self.service = service
        self.topic = topic
        self.source = source
        self.channel = f"{metadata.schema}_outbox"
        self._lock_id = zlib.crc32(self.channel.encode())
        self.acked: dict[TopicPartition, int] = {}
        """The highest offset the broker acknowledged per partition, in this process."""
        self.retention = timedelta(hours=24)
        self.losses = 0
        self.broker_down: str | None = None
        """Why the broker watch's last check failed to reach the broker (None: it did);
        readiness is false while it is set."""
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
            # Where the broker acknowledged it: a partition ending below the highest offset
            # acknowledged within the retention window means the broker lost its log.
            Column("partition", Integer),
            Column("offset", BigInteger),
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
            self.table.insert()
            .values(
                event_id=event_id,
                # An event with a learner's contact details goes to its contact topic.
                topic=topic or (topic_of(type(event)) if event.contact_data else self.topic),
                key=event.key(),
                payload=payload,
                created_at=now,
            )
            # The relay's wake-up in the same round trip (delivered on commit, once per
            # transaction however many rows notify).
            .returning(func.pg_notify(self.channel, ""))
        )
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
            acks = await asyncio.gather(*deliveries)
            published = now()
            await conn.execute(
                update(t)
                .where(t.c.id == bindparam("row_id"))
                .values(
                    published_at=published,
                    partition=bindparam("acked_partition"),
                    offset=bindparam("acked_offset"),
                ),
                [
                    {"row_id": row.id, "acked_partition": ack.partition, "acked_offset": ack.offset}
                    for row, ack in zip(rows, acks, strict=True)
                ],
            )
            lost = self._note_acks(acks)
            if lost:
                await self._mark_window_pending(conn, lost)
        for row in rows:
            EVENTS_PUBLISHED.labels(self.service, row.topic).inc()
        return len(rows)

    def _note_acks(self, acks: list[Any]) -> str | None:
        """Record acknowledged offsets; a reason when one went backwards (the log was lost)."""
        lost = None
        for ack in acks:
            partition = TopicPartition(ack.topic, ack.partition)
            before = self.acked.get(partition)
            if before is not None and ack.offset <= before:
                lost = f"{partition.topic}[{partition.partition}] acked {ack.offset} after {before}"
            self.acked[partition] = max(ack.offset, before or -1)
        if lost:
            self.acked.clear()
        return lost

    async def _mark_window_pending(self, conn: AsyncConnection, why: str) -> int:
        """Mark every row published within the retention window pending again."""
        t = self.table
        result = await conn.execute(
            update(t)
            .where(t.c.published_at.is_not(None), t.c.published_at >= now() - self.retention)
            .values(published_at=None)
        )
        self.losses += 1
        log.warning(
            "outbox.broker_lost_log",
            topic=self.topic,
            why=why,
            republishing=result.rowcount,
            window_hours=self.retention.total_seconds() / 3600,
        )
        return int(result.rowcount)

    async def republish_window(self, engine: AsyncEngine, why: str) -> int:
        async with engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(self._lock_id)))
            return await self._mark_window_pending(conn, why)

    async def check_broker(
        self, engine: AsyncEngine, bootstrap_servers: str, topics: list[str]
    ) -> str | None:
        """Ensure the topics exist (with the configured partitions) and compare the end
        offsets with what was acknowledged; re-publish the window when the log was lost."""
        from credstack.kafka import ensure_topics

        await ensure_topics(bootstrap_servers, topics)
        t = self.table
        newest = (
            select(t.c.topic, t.c.partition, func.max(t.c.offset).label("offset"))
            .where(t.c.offset.is_not(None), t.c.published_at >= now() - self.retention)
            .group_by(t.c.topic, t.c.partition)
            .subquery()
        )
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(t.c.topic, t.c.partition, t.c.offset, t.c.event_id).join(
                    newest,
                    (newest.c.topic == t.c.topic)
                    & (newest.c.partition == t.c.partition)
                    & (newest.c.offset == t.c.offset),
                )
            )
            expected = {
                TopicPartition(r.topic, r.partition): (r.offset, str(r.event_id)) for r in rows
            }
        if not expected:
            return None
        why = await _first_missing(bootstrap_servers, expected)
        if why is not None:
            self.acked.clear()
            await self.republish_window(engine, why)
        return why

    async def prune(self, engine: AsyncEngine) -> int:
        """Delete rows published before the retention window."""
        t = self.table
        async with engine.begin() as conn:
            result = await conn.execute(t.delete().where(t.c.published_at < now() - self.retention))
        return int(result.rowcount)

    async def watch(
        self,
        engine: AsyncEngine,
        bootstrap_servers: str,
        topics: list[str],
        *,
        interval: float,
    ) -> None:
        """Check the broker every `interval` seconds; prune the outbox hourly."""
        pruned_at = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.check_broker(engine, bootstrap_servers, topics)
            except Exception as error:
                if kind_of(error) == "broker":
                    self.broker_down = f"unreachable: {type(error).__name__}"
                raise
            self.broker_down = None
            if loop.time() - pruned_at > 3600:
                await self.prune(engine)
                pruned_at = loop.time()
            await asyncio.sleep(interval)

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
                except Exception as error:
                    from credstack.kafka import is_transient

                    if is_transient(error):
                        OUTAGES.report(kind_of(error), error, relay=self.topic)
                    else:
                        log.exception("outbox.relay_failed", topic=self.topic)
                    await asyncio.sleep(poll_seconds)
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
        finally:
            if listener is not None:
                await listener.close()


async def _first_missing(
    bootstrap_servers: str, expected: dict[TopicPartition, tuple[int, str]]
) -> str | None:
    """Read back the newest acknowledged event of each partition; why one is not there.

    Reading the record itself, not the partition's end offset: Tansu's ListOffsets does
    not report the end of a partition written in several batches (it answered 1 for
    partitions holding 13 records), and a refilled log would pass an offset check anyway.
    """
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="none",
        max_partition_fetch_bytes=1 << 20,
    )
    await reader.start()
    try:
        known: set[TopicPartition] = set()
        for topic in {tp.topic for tp in expected}:
            await reader._client.force_metadata_update()
            for p in reader._client.cluster.partitions_for_topic(topic) or ():
                known.add(TopicPartition(topic, p))
        for tp, (offset, event_id) in expected.items():
            if tp not in known:
                return f"{tp.topic}[{tp.partition}] is gone"
            reader.assign([tp])
            reader.seek(tp, offset)
            try:
                batch = await reader.getmany(tp, timeout_ms=3000, max_records=1)
            except Exception as error:  # OffsetOutOfRange: the log is shorter than that
                from credstack.kafka import is_transient

                if is_transient(error):
                    raise
                return f"{tp.topic}[{tp.partition}] has no offset {offset}: {error!r}"
            records = batch.get(tp, [])
            found = next((r for r in records if r.offset == offset), None)
            if found is None:
                return f"{tp.topic}[{tp.partition}] has no record at offset {offset}"
            try:
                held = json.loads(found.value or b"{}").get("id")
            except ValueError:
                held = None
            if held != event_id:
                return f"{tp.topic}[{tp.partition}] offset {offset} holds another event"
        return None
    finally:
        await reader.stop()


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
