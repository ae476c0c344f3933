"""The event backbone against the real database and the real broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import Column, Integer, String, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.contracts.catalogue import OfferingScheduled
from credstack.contracts.envelope import Received
from credstack.db import create_engine, metadata_for
from credstack.inbox import Inbox
from credstack.kafka import EventConsumer, ParkedEvents, ensure_topics, make_producer
from credstack.outbox import Outbox

T0 = datetime(2026, 11, 22, tzinfo=UTC)


class Backbone:
    """A throwaway service schema with an outbox, an inbox and one effect table."""

    def __init__(self, schema: str, topic: str) -> None:
        self.metadata = metadata_for(schema)
        self.topic = topic
        self.outbox = Outbox(self.metadata, service=schema, topic=topic, source=f"/tests/{schema}")
        self.inbox = Inbox(self.metadata)
        self.parked = ParkedEvents(self.metadata)
        self.effects = Table(
            "effect",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("offering_id", String, nullable=False),
        )


@pytest.fixture
async def backbone(
    database_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[Backbone, AsyncEngine]]:
    schema = f"t_{uuid4().hex[:8]}"
    backbone = Backbone(schema, topic=f"{schema}.events")
    engine = create_engine(database_url, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(backbone.metadata.create_all)
    await ensure_topics(kafka_bootstrap, [backbone.topic, f"{schema}.dlq"])
    yield backbone, engine
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


def scheduled(n: int) -> OfferingScheduled:
    return OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=uuid4(),
        micro_credential_version=1,
        code=f"MC-{n}",
        title=f"Offering {n}",
        starts_on=T0.date(),
        ends_on=T0.date(),
        enrolment_opens_at=T0,
        enrolment_closes_at=T0.replace(year=2027),
        capacity=10,
        delivery_mode="on-campus",
        fee_cents=0,
    )


async def stage(backbone: Backbone, engine: AsyncEngine, events: list[OfferingScheduled]) -> None:
    async with engine.begin() as conn:
        for event in events:
            await backbone.outbox.add(conn, event, now=T0)


def consumer_for(
    backbone: Backbone,
    engine: AsyncEngine,
    kafka_bootstrap: str,
    handler: Any,
    producer: Any,
    *,
    batch_size: int = 200,
) -> EventConsumer:
    return EventConsumer(
        service=backbone.metadata.schema or "",
        bootstrap_servers=kafka_bootstrap,
        topics=[backbone.topic],
        engine=engine,
        inbox=backbone.inbox,
        parked=backbone.parked,
        handlers={OfferingScheduled: handler},
        dead_letter_producer=producer,
        max_attempts=3,
        backoff_seconds=0.01,
        batch_size=batch_size,
    )


def recording(backbone: Backbone) -> Any:
    async def record(conn: AsyncConnection, event: OfferingScheduled, received: Received) -> None:
        await conn.execute(backbone.effects.insert().values(offering_id=str(event.offering_id)))

    return record


async def effects(backbone: Backbone, engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(backbone.effects.c.offering_id).order_by(backbone.effects.c.id)
        )
        return [row[0] for row in rows]


async def wait_until(condition: Any, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def test_the_relay_publishes_staged_events_in_order_and_marks_them_sent(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    events = [scheduled(n) for n in range(5)]
    await stage(service, engine, events)
    producer = make_producer(kafka_bootstrap, idempotence=False)
    await producer.start()
    try:
        assert await service.outbox.publish_pending(engine, producer) == 5
        assert await service.outbox.publish_pending(engine, producer) == 0
    finally:
        await producer.stop()

    reader = AIOKafkaConsumer(
        service.topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await reader.start()
    try:
        batches = await reader.getmany(timeout_ms=5000)
    finally:
        await reader.stop()
    messages = [m for batch in batches.values() for m in batch]
    assert sorted(m.key.decode() for m in messages if m.key) == sorted(
        str(e.offering_id) for e in events
    )
    assert all(
        dict(m.headers)["content-type"].startswith(b"application/cloudevents+json")
        for m in messages
    )
    async with engine.connect() as conn:
        pending = await conn.scalar(
            select(func.count()).where(service.outbox.table.c.published_at.is_(None))
        )
    assert pending == 0


async def test_nothing_is_published_when_the_transaction_rolls_back(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    with contextlib.suppress(RuntimeError):
        async with engine.begin() as conn:
            await service.outbox.add(conn, scheduled(1), now=T0)
            raise RuntimeError("the use case failed after staging")
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(service.outbox.table)) == 0


async def test_the_same_event_delivered_twice_has_one_effect(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    producer = make_producer(kafka_bootstrap, idempotence=False)
    consumer = consumer_for(service, engine, kafka_bootstrap, recording(service), producer)
    event = scheduled(1)
    received = Received(
        id=uuid4(),
        type=event.type_name(),
        source="/t",
        subject="",
        time=T0,
        traceparent=None,
        event=event,
    )

    assert await consumer.apply(received, recording(service)) == "applied"
    assert await consumer.apply(received, recording(service)) == "duplicate"
    assert await effects(service, engine) == [str(event.offering_id)]


async def test_a_consumer_stopped_mid_stream_resumes_with_nothing_lost_or_applied_twice(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    events = [scheduled(n) for n in range(40)]
    await stage(service, engine, events)
    producer = make_producer(kafka_bootstrap, idempotence=False)
    await producer.start()
    try:
        await service.outbox.publish_pending(engine, producer)
        handled = 0
        stop_after = asyncio.Event()
        record = recording(service)

        async def slow_record(
            conn: AsyncConnection, event: OfferingScheduled, received: Received
        ) -> None:
            nonlocal handled
            await record(conn, event, received)
            handled += 1
            if handled == 15:
                stop_after.set()
            await asyncio.sleep(0.01)

        # Batches of at most 5: stopping at the 15th handler call rolls back the batch in
        # flight, after at least two batches were committed.
        first = consumer_for(service, engine, kafka_bootstrap, slow_record, producer, batch_size=5)
        task = asyncio.create_task(first.run())
        await asyncio.wait_for(stop_after.wait(), 60)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert 0 < len(await effects(service, engine)) < 40  # stopped mid-stream

        second = consumer_for(service, engine, kafka_bootstrap, record, producer)
        task = asyncio.create_task(second.run())

        async def all_applied() -> bool:
            return len(await effects(service, engine)) >= 40

        await wait_until(all_applied, within=60)
        await asyncio.sleep(1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await producer.stop()
    applied = await effects(service, engine)
    assert sorted(applied) == sorted(str(e.offering_id) for e in events)


async def test_an_event_that_keeps_failing_is_parked_on_the_dead_letter_topic_and_can_be_replayed(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    event = scheduled(1)
    await stage(service, engine, [event])
    producer = make_producer(kafka_bootstrap, idempotence=False)
    await producer.start()
    attempts = 0

    async def broken(conn: AsyncConnection, event: OfferingScheduled, received: Received) -> None:
        nonlocal attempts
        attempts += 1
        await conn.execute(service.effects.insert().values(offering_id="half-done"))
        raise ValueError("a bug in the handler")

    try:
        await service.outbox.publish_pending(engine, producer)
        consumer = consumer_for(service, engine, kafka_bootstrap, broken, producer)
        task = asyncio.create_task(consumer.run())

        async def parked() -> bool:
            async with engine.connect() as conn:
                return bool(
                    await conn.scalar(select(func.count()).select_from(service.parked.table))
                )

        await wait_until(parked)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

        assert attempts == 3
        assert await effects(service, engine) == []
        async with engine.connect() as conn:
            row = (await conn.execute(select(service.parked.table))).one()
        assert "a bug in the handler" in row.error

        dlq = AIOKafkaConsumer(
            f"{service.metadata.schema}.dlq",
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
        )
        await dlq.start()
        try:
            batches = await dlq.getmany(timeout_ms=5000)
        finally:
            await dlq.stop()
        dead = [m for batch in batches.values() for m in batch]
        assert len(dead) == 1
        assert b"a bug in the handler" in dict(dead[0].headers)["error"]

        fixed = consumer_for(service, engine, kafka_bootstrap, recording(service), producer)
        assert await fixed.replay(row.payload) == "applied"
        assert await fixed.replay(row.payload) == "duplicate"
        assert await effects(service, engine) == [str(event.offering_id)]
    finally:
        await producer.stop()


def record_of(
    topic: str,
    event: OfferingScheduled,
    offset: int,
    event_id: Any = None,
    traceparent: str | None = None,
) -> Any:
    """A ConsumerRecord as the broker hands it over."""
    import json

    from aiokafka.structs import ConsumerRecord

    from credstack.contracts.envelope import to_cloudevent

    payload = to_cloudevent(
        event, event_id=event_id or uuid4(), time=T0, source="/t", traceparent=traceparent
    )
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=event.key().encode(),
        value=json.dumps(payload).encode(),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[],
    )


def with_transaction(backbone: Backbone) -> Any:
    """Records `offering:code:transaction id` for each event applied."""

    async def record(conn: AsyncConnection, event: OfferingScheduled, received: Received) -> None:
        txid = await conn.scalar(text("SELECT txid_current()"))
        await conn.execute(
            backbone.effects.insert().values(offering_id=f"{event.offering_id}:{event.code}:{txid}")
        )

    return record


async def test_a_batch_is_applied_in_one_transaction_and_a_delivery_repeated_in_it_once(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    consumer = consumer_for(service, engine, kafka_bootstrap, with_transaction(service), None)
    events = [scheduled(n) for n in range(4)]
    repeated = uuid4()
    records = [record_of(service.topic, e, n) for n, e in enumerate(events)]
    records.insert(2, record_of(service.topic, events[0], 9, event_id=repeated))
    records.insert(4, record_of(service.topic, events[0], 10, event_id=repeated))

    assert await consumer.handle_batch(records) is True
    applied = [e.split(":") for e in await effects(service, engine)]
    assert [code for _, code, _ in applied] == ["MC-0", "MC-1", "MC-0", "MC-2", "MC-3"]
    assert len({txid for _, _, txid in applied}) == 1
    async with engine.connect() as conn:
        claimed = await conn.scalar(select(func.count()).select_from(service.inbox.table))
    assert claimed == 5

    # Delivered again (a restart before the offset commit): nothing applied twice.
    assert await consumer.handle_batch(records) is True
    assert len(await effects(service, engine)) == 5


async def test_each_event_of_a_batch_is_logged_consumed_under_its_own_trace(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    from structlog.testing import capture_logs

    from credstack.observability import _add_trace_ids

    service, engine = backbone
    consumer = consumer_for(service, engine, kafka_bootstrap, recording(service), None)
    traces = [f"{n:032x}" for n in range(1, 4)]
    records = [
        record_of(service.topic, scheduled(n), n, traceparent=f"00-{trace}-00f067aa0ba902b7-01")
        for n, trace in enumerate(traces)
    ]
    with capture_logs(processors=[_add_trace_ids]) as logs:
        assert await consumer.handle_batch(records) is True
    consumed = [entry for entry in logs if entry["event"] == "event.consumed"]
    assert [entry.get("trace_id") for entry in consumed] == traces


async def test_a_failing_event_in_a_batch_is_parked_and_the_others_applied_once_in_order(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    offerings = [uuid4() for _ in range(3)]
    events = []
    for n in range(30):
        event = scheduled(n).model_copy(update={"offering_id": offerings[n % 3]})
        events.append(event)
    await stage(service, engine, events)
    record = with_transaction(service)
    attempts = 0

    async def poisoned(conn: AsyncConnection, event: OfferingScheduled, received: Received) -> None:
        nonlocal attempts
        await record(conn, event, received)
        if event.code == "MC-13":
            attempts += 1
            raise ValueError("a bug in the handler")

    producer = make_producer(kafka_bootstrap, idempotence=False)
    await producer.start()
    try:
        assert await service.outbox.publish_pending(engine, producer) == 30
        consumer = consumer_for(service, engine, kafka_bootstrap, poisoned, producer)
        task = asyncio.create_task(consumer.run())

        async def settled() -> bool:
            async with engine.connect() as conn:
                parked = await conn.scalar(select(func.count()).select_from(service.parked.table))
            return bool(parked) and len(await effects(service, engine)) >= 29

        await wait_until(settled, within=60)
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await producer.stop()

    applied = [e.split(":") for e in await effects(service, engine)]
    codes = [code for _, code, _ in applied]
    assert sorted(codes) == sorted(f"MC-{n}" for n in range(30) if n != 13)  # once each
    for offering in offerings:  # per-key order
        mine = [int(code[3:]) for o, code, _ in applied if o == str(offering)]
        assert mine == sorted(mine)
    assert attempts >= 3  # in the batch, then its own retries (max_attempts=3)
    async with engine.connect() as conn:
        row = (await conn.execute(select(service.parked.table))).one()
    assert "MC-13" in row.payload and "a bug in the handler" in row.error
