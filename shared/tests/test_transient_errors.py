"""Transient database errors are outages: retried until they pass, never parked.

The errors are real: a deadlock and a serialization failure PostgreSQL detects between the
handler's transaction and a second connection, and a lock timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now
from credstack.contracts.catalogue import OfferingScheduled
from credstack.contracts.envelope import Received
from credstack.db import create_engine, libpq_url, metadata_for
from credstack.inbox import Inbox
from credstack.kafka import (
    EventConsumer,
    ParkedEvents,
    ReplayFailed,
    ensure_topics,
    is_transient,
    make_producer,
    parked_retry_delay,
)
from credstack.outbox import Outbox

T0 = now()


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
        enrolment_closes_at=T0 + timedelta(days=365),
        capacity=10,
        delivery_mode="on-campus",
        fee_cents=0,
    )


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


def counter_table(metadata: MetaData) -> Table:
    return Table(
        "counter",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("n", Integer, nullable=False),
    )


@pytest.fixture
async def counters(backbone: tuple[Backbone, AsyncEngine]) -> AsyncIterator[Table]:
    service, engine = backbone
    table = counter_table(service.metadata)
    async with engine.begin() as conn:
        await conn.run_sync(table.create)
        await conn.execute(table.insert().values([{"id": 1, "n": 0}, {"id": 2, "n": 0}]))
    yield table


def consumer(
    service: Backbone, engine: AsyncEngine, handler: object, producer: object, **kw: object
) -> EventConsumer:
    return EventConsumer(
        service=service.metadata.schema or "",
        bootstrap_servers="unused:9092",
        topics=[service.topic],
        engine=engine,
        inbox=service.inbox,
        parked=service.parked,
        handlers={OfferingScheduled: handler},  # type: ignore[dict-item]
        dead_letter_producer=producer,  # type: ignore[arg-type]
        max_attempts=2,
        backoff_seconds=0.01,
        **kw,  # type: ignore[arg-type]
    )


def message(service: Backbone, event: OfferingScheduled) -> object:
    """A ConsumerRecord as the broker hands it over."""
    from aiokafka.structs import ConsumerRecord

    from credstack.contracts.envelope import to_cloudevent

    payload = to_cloudevent(event, event_id=uuid4(), time=now(), source="/t", traceparent=None)
    import json

    return ConsumerRecord(
        topic=service.topic,
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=event.key().encode(),
        value=json.dumps(payload).encode(),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[],
    )


async def parked_count(service: Backbone, engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(service.parked.table)) or 0)


async def test_a_deadlock_in_the_handler_is_retried_until_it_passes_and_never_parked(
    backbone: tuple[Backbone, AsyncEngine], counters: Table, database_url: str
) -> None:
    service, engine = backbone
    schema = service.metadata.schema
    deadlocks = 0
    attempts = 0

    async def crossing(conn: AsyncConnection, event: OfferingScheduled, _: Received) -> None:
        """Lock row 2 then row 1 while another transaction locks row 1 then row 2."""
        nonlocal attempts, deadlocks
        attempts += 1
        if deadlocks < 3:
            other = await asyncpg.connect(libpq_url(database_url))
            try:
                side = other.transaction()
                await side.start()
                await other.execute(f'SELECT * FROM "{schema}".counter WHERE id = 1 FOR UPDATE')
                await conn.execute(select(counters).where(counters.c.id == 2).with_for_update())
                # The handler waits first, so PostgreSQL's detector picks it as the victim.
                waiting = asyncio.create_task(
                    conn.execute(select(counters).where(counters.c.id == 1).with_for_update())
                )
                await asyncio.sleep(0.2)
                crossing_task = asyncio.create_task(
                    other.execute(f'UPDATE "{schema}".counter SET n = n + 1 WHERE id = 2')
                )
                try:
                    await waiting
                finally:
                    deadlocks += 1
                    await crossing_task
                    await side.rollback()
            finally:
                await other.close()
        await conn.execute(update(counters).where(counters.c.id == 1).values(n=counters.c.n + 1))
        await conn.execute(service.effects.insert().values(offering_id=str(event.offering_id)))

    producer = make_producer("unused:9092", idempotence=False)
    event = scheduled(1)
    await consumer(service, engine, crossing, producer).handle(message(service, event))  # type: ignore[arg-type]

    assert deadlocks == 3 and attempts == 4  # more deadlocks than max_attempts=2, not parked
    assert await effects(service, engine) == [str(event.offering_id)]
    assert await parked_count(service, engine) == 0


async def test_a_serialization_failure_is_retried_until_it_passes_and_never_parked(
    backbone: tuple[Backbone, AsyncEngine], counters: Table, database_url: str
) -> None:
    service, _ = backbone
    schema = service.metadata.schema or ""
    engine = create_engine(database_url, schema, isolation_level="REPEATABLE READ")
    failures = 0

    async def racing(conn: AsyncConnection, event: OfferingScheduled, _: Received) -> None:
        nonlocal failures
        await conn.execute(select(counters))  # the snapshot
        if failures < 4:
            failures += 1
            other = await asyncpg.connect(libpq_url(database_url))
            try:
                await other.execute(f'UPDATE "{schema}".counter SET n = n + 10 WHERE id = 1')
            finally:
                await other.close()
        await conn.execute(update(counters).where(counters.c.id == 1).values(n=counters.c.n + 1))
        await conn.execute(service.effects.insert().values(offering_id=str(event.offering_id)))

    try:
        producer = make_producer("unused:9092", idempotence=False)
        event = scheduled(2)
        await consumer(service, engine, racing, producer).handle(message(service, event))  # type: ignore[arg-type]
        assert failures == 4
        assert await effects(service, engine) == [str(event.offering_id)]
        assert await parked_count(service, engine) == 0
        async with engine.connect() as conn:
            assert await conn.scalar(select(counters.c.n).where(counters.c.id == 1)) == 41
    finally:
        await engine.dispose()


async def test_lock_timeouts_and_lost_races_are_transient_but_a_bug_is_not(
    backbone: tuple[Backbone, AsyncEngine], counters: Table, database_url: str
) -> None:
    service, engine = backbone
    schema = service.metadata.schema
    other = await asyncpg.connect(libpq_url(database_url))
    side = other.transaction()
    await side.start()
    await other.execute(f'SELECT * FROM "{schema}".counter WHERE id = 1 FOR UPDATE')
    try:
        with pytest.raises(Exception) as timed_out:
            async with engine.begin() as conn:
                await conn.execute(text("SET LOCAL lock_timeout = '50ms'"))
                await conn.execute(select(counters).where(counters.c.id == 1).with_for_update())
    finally:
        await side.rollback()
        await other.close()
    assert is_transient(timed_out.value)
    with pytest.raises(Exception) as broken:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT 1/0"))
    assert not is_transient(broken.value)
    assert not is_transient(ValueError("a bug"))


async def test_parked_events_are_retried_automatically_on_a_growing_schedule(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone
    fail_until = 4  # 2 attempts park it, then automatic retry 1 fails, retry 2 passes
    calls = 0

    async def flaky(conn: AsyncConnection, event: OfferingScheduled, _: Received) -> None:
        nonlocal calls
        calls += 1
        if calls < fail_until:
            raise ValueError(f"not yet ({calls})")
        await conn.execute(service.effects.insert().values(offering_id=str(event.offering_id)))

    producer = make_producer(kafka_bootstrap, idempotence=False)
    await producer.start()
    try:
        consuming = consumer(service, engine, flaky, producer, parked_retry_seconds=0.2)
        event = scheduled(3)
        await consuming.handle(message(service, event))  # type: ignore[arg-type]
        assert await parked_count(service, engine) == 1
        assert await consuming.retry_parked_once() == 0  # not due yet
        await asyncio.sleep(0.25)
        assert await consuming.retry_parked_once() == 1  # fails again: next in 0.8 s
        async with engine.connect() as conn:
            row = (await conn.execute(select(service.parked.table))).one()
        assert row.retries == 1 and row.replayed_at is None and "not yet (3)" in row.error
        assert row.next_retry_at - now() > timedelta(seconds=0.5)
        await asyncio.sleep(0.85)
        assert await consuming.retry_parked_once() == 1
        async with engine.connect() as conn:
            row = (await conn.execute(select(service.parked.table))).one()
        assert row.replayed_at is not None and row.next_retry_at is None
        assert await effects(service, engine) == [str(event.offering_id)]
    finally:
        await producer.stop()
    assert [parked_retry_delay(n, 30) for n in range(3)] == [30, 120, 480]


async def test_automatic_retries_stop_after_the_limit_and_a_failed_replay_says_why(
    backbone: tuple[Backbone, AsyncEngine], kafka_bootstrap: str
) -> None:
    service, engine = backbone

    async def broken(conn: AsyncConnection, event: OfferingScheduled, _: Received) -> None:
        raise ValueError("a bug in the handler")

    producer = make_producer(kafka_bootstrap, idempotence=False)
    await producer.start()
    try:
        consuming = consumer(
            service, engine, broken, producer, parked_retry_seconds=0.01, parked_max_retries=2
        )
        await consuming.handle(message(service, scheduled(4)))  # type: ignore[arg-type]

        async def spent() -> bool:
            await consuming.retry_parked_once()
            async with engine.connect() as conn:
                row = (await conn.execute(select(service.parked.table))).one()
            return bool(row.retries == 2 and row.next_retry_at is None)

        await wait_until(spent, within=10)
        async with engine.connect() as conn:
            row = (await conn.execute(select(service.parked.table))).one()
        assert row.replayed_at is None  # waits for staff
        with pytest.raises(ReplayFailed) as failed:
            await consuming.replay(row.payload)
        assert failed.value.facts["error"] == "ValueError: a bug in the handler"
        assert failed.value.status == 409
    finally:
        await producer.stop()
