"""The embedded broker's S3 storage (`CREDSTACK_BROKER_STORAGE=s3`, alocals3): the
conditional writes Tansu relies on, and every acknowledged event kept through a kill -9 of
Tansu and of its object store. And why it is not the default: alocals3 0.3.0's listing
skips an object at every page boundary (strict xfail: it fails once a fixed version
lists everything, the cue to reconsider the default; docs/operations.md)."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from credstack import engines
from credstack.broker import STORAGE_SETTING, BrokerStorage, EmbeddedBroker, storage_from_env
from credstack.kafka import ensure_topics

PARTITIONS = 3
S3_XML = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture
def s3_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(
        engines.free_port(), tmp_path / "data", tmp_path, storage=BrokerStorage.S3
    )
    broker.start()
    yield broker
    broker.stop()


def test_the_broker_keeps_its_log_in_memory_unless_s3_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(STORAGE_SETTING, raising=False)
    assert storage_from_env() is BrokerStorage.MEMORY
    monkeypatch.setenv(STORAGE_SETTING, " S3")
    assert storage_from_env() is BrokerStorage.S3
    monkeypatch.setenv(STORAGE_SETTING, "postgres")
    with pytest.raises(RuntimeError, match="memory or s3"):
        storage_from_env()


async def test_the_object_store_writes_conditionally_one_writer_at_a_time(
    s3_broker: EmbeddedBroker,
) -> None:
    """What Tansu's S3 engine needs: a create (`If-None-Match: *`) and an update
    (`If-Match: <etag>`) that exactly one of many racing writers wins."""
    url = f"http://127.0.0.1:{s3_broker.object_store_port}/s3/tansu/test/watermark.json"
    async with httpx.AsyncClient(timeout=30) as client:
        creates = await asyncio.gather(
            *(client.put(url, content=b"%d" % n, headers={"If-None-Match": "*"}) for n in range(12))
        )
        assert collections.Counter(a.status_code for a in creates) == {201: 1, 412: 11}
        etag = (await client.head(url)).headers["etag"]
        updates = await asyncio.gather(
            *(client.put(url, content=b"u%d" % n, headers={"If-Match": etag}) for n in range(12))
        )
        assert collections.Counter(a.status_code for a in updates) == {200: 1, 412: 11}
        stale = await client.put(url, content=b"late", headers={"If-Match": etag})
        assert stale.status_code == 412


async def produce_until_killed(broker: EmbeddedBroker, kill_after: int) -> dict[bytes, int]:
    """Keep 8 sends in flight; kill -9 Tansu and its store once `kill_after` are acknowledged.
    Returns each acknowledged value with its offset."""
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap_servers,
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=3000,
    )
    await producer.start()
    acknowledged: dict[bytes, int] = {}

    async def send(n: int) -> None:
        value = b"event-%d" % n
        ack = await producer.send_and_wait("events", value, partition=n % PARTITIONS)
        acknowledged[value] = ack.offset

    in_flight: set[asyncio.Task[None]] = set()
    sent = 0
    while len(acknowledged) < kill_after:
        while len(in_flight) < 8:
            in_flight.add(asyncio.create_task(send(sent)))
            sent += 1
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    broker.kill()
    for task in in_flight:
        task.cancel()
    await asyncio.gather(*in_flight, return_exceptions=True)
    await asyncio.wait_for(producer.stop(), 15)
    return dict(acknowledged)


async def read_everything(bootstrap_servers: str) -> list[tuple[bytes, int]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition("events", p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[tuple[bytes, int]] = []
        quiet = 0
        while quiet < 3:  # three empty seconds in a row: all read
            batches = await consumer.getmany(timeout_ms=1000)
            records = [record for batch in batches.values() for record in batch]
            quiet = 0 if records else quiet + 1
            found += [(r.value, r.offset) for r in records if r.value is not None]
        return found
    finally:
        await consumer.stop()


async def test_a_kill_9_of_tansu_and_its_store_mid_produce_loses_no_acknowledged_event(
    s3_broker: EmbeddedBroker,
) -> None:
    await ensure_topics(s3_broker.bootstrap_servers, ["events"])
    acknowledged = await produce_until_killed(s3_broker, kill_after=120)

    s3_broker.start()
    found = await read_everything(s3_broker.bootstrap_servers)

    values = [value for value, _ in found]
    assert len(values) == len(set(values))  # nothing doubled
    offsets = dict(found)
    # every acknowledged event is there, at the offset it was acknowledged with
    assert {value: offsets.get(value) for value in acknowledged} == acknowledged


@pytest.mark.xfail(
    strict=True,
    reason="alocals3 0.3.0: NextContinuationToken names the first key not listed, and the "
    "next page lists keys after it, so one key per page boundary is never listed",
)
async def test_the_object_store_lists_every_object_past_a_page(
    s3_broker: EmbeddedBroker,
) -> None:
    """Tansu lists a partition's batches (`…/records/<offset>.batch`) on every fetch,
    1,000 to a page: an object left out of the listing is an event no consumer sees."""
    bucket = f"http://127.0.0.1:{s3_broker.object_store_port}/s3/tansu"
    keys = [f"records/{offset:020d}.batch" for offset in range(1001)]
    async with httpx.AsyncClient(timeout=60) as client:
        for first in range(0, len(keys), 50):
            await asyncio.gather(
                *(client.put(f"{bucket}/{key}", content=b"batch") for key in keys[first:][:50])
            )
        listed: list[str] = []
        token: str | None = None
        while True:  # as an S3 client pages: ListObjectsV2, then its continuation token
            query = {"list-type": "2", "prefix": "records/"}
            if token is not None:
                query["continuation-token"] = token
            page = ElementTree.fromstring((await client.get(bucket, params=query)).content)
            listed += [key.text or "" for key in page.iter(f"{S3_XML}Key")]
            token = page.findtext(f"{S3_XML}NextContinuationToken")
            if token is None:
                break
    assert sorted(set(keys) - set(listed)) == []
