"""Broker benchmark: produce throughput of the embedded Tansu keeping its log in memory
(the default, and the baseline, same run) and in the S3-compatible object store on disk
(alocals3, `CREDSTACK_BROKER_STORAGE=s3`), then how fast a consumer reads the topic back.

For each storage: a fresh broker in a throwaway folder, one topic of 3 partitions, then
MESSAGES messages of SIZE bytes produced with acks=1 and again with acks=all, two ways:
one at a time (`send_and_wait`, what a lone event costs) and pipelined (every send issued,
then all acknowledgements awaited, as the outbox relays a backlog; linger 2 ms, as the
services' producer). Last, a consumer reads the topic from the start.

    ./dev bench broker
    MESSAGES=500 SIZE=1024 ./dev bench broker
    ./dev bench broker --crash     # also: kill -9 both mid-produce, then count what's back
    ./dev bench broker --long-partition 1100   # also: 1,100 batches in one partition

`--crash` kills Tansu and its object store (SIGKILL) while 16 sends are in flight, starts
both again on the same folder and checks that every acknowledged message is there, once,
at the offset it was acknowledged with. `--long-partition N` stores N batches in one
partition and reads them all back (alocals3 0.3.0 skips one object per 1,000 listed, so
past 1,000 batches some go missing: why S3 storage is not the default). Exit 1 when a
check finds a message missing. Benchmarks print figures; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from credstack import engines
from credstack.broker import BrokerStorage, EmbeddedBroker
from credstack.kafka import ensure_topics

MESSAGES = int(os.environ.get("MESSAGES", "1000"))
SIZE = int(os.environ.get("SIZE", "1024"))
PARTITIONS = 3
Acks = int | str


def payload(n: int) -> bytes:
    head = f"message-{n:08d}-".encode()
    return head + b"x" * max(0, SIZE - len(head))


async def produce(bootstrap: str, topic: str, acks: Acks, *, pipelined: bool) -> float:
    """Messages per second producing MESSAGES messages to `topic`."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=acks, enable_idempotence=False, linger_ms=2
    )
    await producer.start()
    try:
        started = time.perf_counter()
        if pipelined:
            sends = [await producer.send(topic, payload(n)) for n in range(MESSAGES)]
            await asyncio.gather(*sends)
        else:
            for n in range(MESSAGES):
                await producer.send_and_wait(topic, payload(n))
        return MESSAGES / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def read_back(bootstrap: str, topic: str, expected: int) -> float:
    """Messages per second reading `topic` from its start until `expected` are read."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started, read = time.perf_counter(), 0
        while read < expected and time.perf_counter() - started < 300:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            read += sum(len(records) for records in batches.values())
        if read < expected:
            raise SystemExit(f"read {read} of {expected} messages back from {topic}")
        return read / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def measure(bootstrap: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    for acks in (1, "all"):
        for pipelined in (False, True):
            topic = f"bench-{acks}-{'pipelined' if pipelined else 'one'}"
            await ensure_topics(bootstrap, [topic])
            label = f"produce acks={acks}, {'pipelined' if pipelined else 'one at a time'}"
            figures[label] = await produce(bootstrap, topic, acks, pipelined=pipelined)
    figures["read back from the start (acks=all, pipelined topic)"] = await read_back(
        bootstrap, "bench-all-pipelined", MESSAGES
    )
    return figures


def run_on(storage: BrokerStorage, work: Path) -> dict[str, float]:
    broker = EmbeddedBroker(
        engines.free_port(), work / storage / "data", work / storage, storage=storage
    )
    broker.start()
    try:
        return asyncio.run(measure(broker.bootstrap_servers))
    finally:
        broker.stop()


async def produce_until_killed(
    broker: EmbeddedBroker, acknowledged: dict[bytes, tuple[int, int]], kill_after: int
) -> None:
    """Keep 16 sends in flight; kill -9 Tansu and its store once `kill_after` are acked."""
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap_servers,
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=3000,
    )
    await producer.start()

    async def send(n: int) -> None:
        value = payload(n)
        ack = await producer.send_and_wait("crash", value, partition=n % PARTITIONS)
        acknowledged[value] = (ack.partition, ack.offset)

    in_flight: set[asyncio.Task[None]] = set()
    n = 0
    while len(acknowledged) < kill_after:
        while len(in_flight) < 16:
            in_flight.add(asyncio.create_task(send(n)))
            n += 1
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # before the kill, a failed send is the benchmark's failure
    broker.kill()  # with 16 sends in flight: acknowledged or not, none is counted twice
    if in_flight:
        await asyncio.wait(in_flight, timeout=10)
    for task in in_flight:
        task.cancel()
    await asyncio.gather(*in_flight, return_exceptions=True)
    await asyncio.wait_for(producer.stop(), 15)


async def read_all(bootstrap: str, topic: str) -> dict[bytes, list[tuple[int, int]]]:
    """Every message of `topic` with where it was read (partition, offset), from the start."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: dict[bytes, list[tuple[int, int]]] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        quiet = 0
        while quiet < 3:  # three empty seconds in a row: everything is read
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            records = [record for batch in batches.values() for record in batch]
            quiet = 0 if records else quiet + 1
            for record in records:
                assert record.value is not None
                found.setdefault(record.value, []).append((record.partition, record.offset))
        return found
    finally:
        await consumer.stop()


def crash_check(work: Path, kill_after: int = 300) -> bool:
    """kill -9 Tansu and its object store mid-produce; True when every ack survived."""
    broker = EmbeddedBroker(
        engines.free_port(), work / "crash" / "data", work / "crash", storage=BrokerStorage.S3
    )
    broker.start()
    try:
        asyncio.run(ensure_topics(broker.bootstrap_servers, ["crash"]))
        acknowledged: dict[bytes, tuple[int, int]] = {}
        asyncio.run(produce_until_killed(broker, acknowledged, kill_after))
        broker.start()
        found = asyncio.run(read_all(broker.bootstrap_servers, "crash"))
    finally:
        broker.stop()
    missing = [value for value in acknowledged if value not in found]
    moved = [v for v in acknowledged if v in found and found[v] != [acknowledged[v]]]
    print(
        f"kill -9 of Tansu and alocals3 with 16 sends in flight: {len(acknowledged)} "
        f"acknowledged, {len(found)} read back after the restart, {len(missing)} "
        f"acknowledged and missing, {len(moved)} elsewhere or twice"
    )
    return not missing and not moved


async def produce_one_batch_each(bootstrap: str, topic: str, count: int) -> list[bytes]:
    """`count` messages to partition 0, each its own produce request (so its own batch)."""
    producers = [
        AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
        for _ in range(4)
    ]
    for producer in producers:
        await producer.start()

    async def send_every_fourth(first: int) -> None:
        for n in range(first, count, len(producers)):
            await producers[first].send_and_wait(topic, payload(n), partition=0)

    try:
        await asyncio.gather(*(send_every_fourth(first) for first in range(len(producers))))
    finally:
        for producer in producers:
            await producer.stop()
    return [payload(n) for n in range(count)]


def long_partition_check(work: Path, batches: int) -> bool:
    """`batches` batches in one partition (S3 storage), all read back; True if none is missing.

    Past 1,000 objects the store's listing is paged, and Tansu's fetch lists a partition's
    batches every time: a listing that skips objects hides acknowledged events."""
    broker = EmbeddedBroker(
        engines.free_port(), work / "long" / "data", work / "long", storage=BrokerStorage.S3
    )
    broker.start()
    try:
        asyncio.run(ensure_topics(broker.bootstrap_servers, ["long"]))
        sent = asyncio.run(produce_one_batch_each(broker.bootstrap_servers, "long", batches))
        found = asyncio.run(read_all(broker.bootstrap_servers, "long"))
    finally:
        broker.stop()
    missing = [value for value in sent if value not in found]
    print(
        f"{batches} batches acknowledged in one partition (S3 storage): {len(found)} read back, "
        f"{len(missing)} missing"
        + (f" (e.g. {', '.join(v[:16].decode() for v in missing[:3])})" if missing else "")
    )
    return not missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crash", action="store_true", help="also kill -9 both mid-produce")
    parser.add_argument(
        "--long-partition",
        type=int,
        default=0,
        metavar="BATCHES",
        help="also store BATCHES batches in one partition (S3) and read them all back",
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credstack-bench-broker-") as folder:
        work = Path(folder)
        memory = run_on(BrokerStorage.MEMORY, work)
        s3 = run_on(BrokerStorage.S3, work)
        print(f"\n{MESSAGES} messages of {SIZE} bytes, topic of {PARTITIONS} partitions (msg/s)")
        print(f"{'':<56} {'memory':>9} {'s3':>9}   s3/memory")
        for label, baseline in memory.items():
            print(f"{label:<56} {baseline:>9.0f} {s3[label]:>9.0f}   {s3[label] / baseline:.2f}x")
        failed = arguments.crash and not crash_check(work)
        if arguments.long_partition and not long_partition_check(work, arguments.long_partition):
            failed = True
        if failed:
            sys.exit(1)


if __name__ == "__main__":
    main()
