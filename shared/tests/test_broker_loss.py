"""A broker that loses its log (the embedded Tansu with memory storage) loses no event:
the outbox keeps published rows for a retention window and re-publishes them in order.

These cases start Tansu with memory storage (the default), whatever
`CREDSTACK_BROKER_STORAGE` says; S3 storage is checked in `test_broker_storage.py`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Column, Integer, String, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack import engines
from credstack.clock import now
from credstack.contracts.catalogue import OfferingScheduled
from credstack.contracts.envelope import Received
from credstack.db import create_engine, metadata_for
from credstack.inbox import Inbox
from credstack.kafka import EventConsumer, ParkedEvents, ensure_topics, make_producer
from credstack.outbox import Outbox

T0 = now()


class Broker:
    """An embedded Tansu broker of this test's own (memory storage: a crash loses its log),
    which the test can kill -9 and restart."""

    def __init__(self, log_dir: Path) -> None:
        self.port = engines.free_port()
        self.log_dir = log_dir
        self.process = engines.start_broker(self.port, log_dir / "broker.log")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill_and_restart(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = engines.start_broker(self.port, self.log_dir / "broker.log")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("restarts the embedded broker; an external one is named")
    running = Broker(tmp_path)
    yield running
    running.stop()


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    name = f"t_{uuid4().hex[:8]}"
    engine = create_engine(database_url, name)
    yield name, engine
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
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
        enrolment_closes_at=T0,
        capacity=10,
        delivery_mode="on-campus",
        fee_cents=0,
    )


async def test_a_broker_crash_with_a_consumer_lagging_loses_nothing(
    broker: Broker, schema: tuple[str, AsyncEngine]
) -> None:
    name, engine = schema
    metadata = metadata_for(name)
    topic = f"{name}.events"
    outbox = Outbox(metadata, service=name, topic=topic, source="/t")
    inbox, parked = Inbox(metadata), ParkedEvents(metadata)
    effects = Table(
        "effect",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("offering_id", String, nullable=False),
    )
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{name}"'))
        await conn.run_sync(metadata.create_all)
    topics = [topic, f"{name}.dlq"]
    await ensure_topics(broker.bootstrap, topics)
    events = [scheduled(n) for n in range(30)]
    async with engine.begin() as conn:
        for event in events:
            await outbox.add(conn, event, now=T0)

    applied = 0
    lagging = asyncio.Event()

    async def record(conn: AsyncConnection, event: OfferingScheduled, _: Received) -> None:
        nonlocal applied
        await conn.execute(effects.insert().values(offering_id=str(event.offering_id)))
        applied += 1
        if applied >= 5:
            lagging.set()
            await asyncio.sleep(3600)  # the consumer falls behind: stuck on a slow handler

    producer = make_producer(broker.bootstrap, idempotence=False)
    await producer.start()
    consumer = EventConsumer(
        service=name,
        bootstrap_servers=broker.bootstrap,
        topics=[topic],
        engine=engine,
        inbox=inbox,
        parked=parked,
        handlers={OfferingScheduled: record},
        dead_letter_producer=producer,
    )
    try:
        while await outbox.publish_pending(engine, producer):
            pass
        assert await outbox.check_broker(engine, broker.bootstrap, topics) is None  # all held
        task = asyncio.create_task(consumer.run())
        await asyncio.wait_for(lagging.wait(), 60)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await producer.stop()

    broker.kill_and_restart()  # every acknowledged event the consumer had not read is gone

    why = await outbox.check_broker(engine, broker.bootstrap, topics)
    assert why is not None and "has no" in why
    async with engine.connect() as conn:
        pending = await conn.scalar(
            select(func.count()).where(outbox.table.c.published_at.is_(None))
        )
    assert pending == len(events)  # the whole window, to be re-published in order

    async def record_all(conn: AsyncConnection, event: OfferingScheduled, _: Received) -> None:
        await conn.execute(effects.insert().values(offering_id=str(event.offering_id)))

    producer = make_producer(broker.bootstrap, idempotence=False)
    await producer.start()
    consumer = EventConsumer(
        service=name,
        bootstrap_servers=broker.bootstrap,
        topics=[topic],
        engine=engine,
        inbox=inbox,
        parked=parked,
        handlers={OfferingScheduled: record_all},
        dead_letter_producer=producer,
    )
    try:
        while await outbox.publish_pending(engine, producer):
            pass
        assert await outbox.check_broker(engine, broker.bootstrap, topics) is None
        task = asyncio.create_task(consumer.run())
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            async with engine.connect() as conn:
                count = await conn.scalar(select(func.count()).select_from(effects))
            if count == len(events) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await producer.stop()
    async with engine.connect() as conn:
        done = [r[0] for r in await conn.execute(select(effects.c.offering_id))]
    assert sorted(done) == sorted(str(e.offering_id) for e in events)  # none lost, none twice


async def test_the_broker_watch_says_the_broker_is_down_until_it_is_back(
    broker: Broker, schema: tuple[str, AsyncEngine]
) -> None:
    """Readiness reads `broker_down`: set when the watch cannot reach the broker, cleared
    by the next check that does."""
    name, engine = schema
    outbox = Outbox(metadata_for(name), service=name, topic=f"{name}.events", source="/t")
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{name}"'))
        await conn.run_sync(outbox.table.metadata.create_all)
    topics = [f"{name}.events"]
    nowhere = f"127.0.0.1:{engines.free_port()}"
    with pytest.raises(Exception):  # noqa: B017 (whatever the client raises; _retrying logs it)
        await asyncio.wait_for(outbox.watch(engine, nowhere, topics, interval=0.1), 60)
    assert outbox.broker_down is not None and outbox.broker_down.startswith("unreachable")

    watching = asyncio.create_task(outbox.watch(engine, broker.bootstrap, topics, interval=0.1))
    try:
        for _ in range(300):
            if outbox.broker_down is None:
                break
            await asyncio.sleep(0.1)
        assert outbox.broker_down is None
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
