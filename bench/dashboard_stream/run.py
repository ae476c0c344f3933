"""Dashboard stream benchmark: events per second broker → SSE client, and how many
concurrent SSE clients one worker holds (with heartbeats), with its memory.

The dashboard runs as its own uvicorn process (one worker, consumer included) on the real
engines. EVENTS CloudEvents are produced to `assessment.events`; an SSE client counts them
arriving. Baseline in the same run: a plain Kafka consumer reading the same messages.
Then CLIENTS SSE connections are opened (heartbeat 1 s) and the worker's RSS is read from
/proc before and after, and one more event is timed reaching every client.

    ./dev bench dashboard_stream
    EVENTS=2000 CLIENTS=500 ./dev bench dashboard_stream
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from credstack import devauth, engines, migrations
from credstack.contracts.assessment import GradeRecorded
from credstack.contracts.envelope import to_cloudevent
from credstack.kafka import ensure_topics

EVENTS = int(os.environ.get("EVENTS", "1000"))
CLIENTS = int(os.environ.get("CLIENTS", "200"))
REPO = Path(__file__).resolve().parents[2]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cloudevent() -> bytes:
    event = GradeRecorded(
        enrolment_id=uuid4(), score=Decimal(70), source="bench", recorded_at=datetime.now(UTC)
    )
    envelope = to_cloudevent(
        event, event_id=uuid4(), time=datetime.now(UTC), source="/bench", traceparent=None
    )
    return json.dumps(envelope).encode()


async def count_sse(url: str, headers: dict[str, str], n: int, ready: asyncio.Event) -> float:
    got = 0
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", f"{url}/stream", headers=headers) as response,
    ):
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                got += 1
                if got >= n:
                    return time.perf_counter()
    return time.perf_counter()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    backbone = engines.ScratchBackbone(
        work, REPO / ".data" / "bench-postgres", prefix="bench_dashboard"
    )
    database_url, bootstrap = backbone.database_url, backbone.kafka
    migrations.upgrade(database_url, "dashboard")
    key = devauth.signing_key(work)
    headers = {"Authorization": f"Bearer {devauth.mint(key, role='staff')}"}
    port = engines.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_IDEMPOTENCE": "false",
        "AUTH_JWKS_URL": (work / devauth.JWKS_FILE).as_uri(),
        "CREDSTACK_DEV_STACK": "true",
        "DASHBOARD_STREAM_HEARTBEAT_SECONDS": "1",
        "DASHBOARD_DATA_DIR": str(work),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "dashboard.main:create_app",
        ],
        env=env,
        stdout=(work / "dashboard.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        engines.wait_for_port(port, timeout=60, process=worker)
        asyncio.run(measure(url, headers, bootstrap, worker.pid))
    finally:
        worker.terminate()
        worker.wait(15)
        backbone.close()


async def measure(url: str, headers: dict[str, str], bootstrap: str, pid: int) -> None:
    if True:
        await ensure_topics(bootstrap, ["assessment.events"])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
        await producer.start()
        # Warm up: the consumer has joined its group once one event comes through.
        ready = asyncio.Event()
        warm = asyncio.create_task(count_sse(url, headers, 1, ready))
        await ready.wait()
        while not warm.done():
            await producer.send_and_wait("assessment.events", cloudevent())
            await asyncio.sleep(0.5)
        ready = asyncio.Event()
        reader = asyncio.create_task(count_sse(url, headers, EVENTS, ready))
        await ready.wait()
        messages = [cloudevent() for _ in range(EVENTS)]
        started = time.perf_counter()
        for message in messages:
            await producer.send("assessment.events", message)
        await producer.flush()
        finished = await reader
        sse_rate = EVENTS / (finished - started)

        baseline = AIOKafkaConsumer(
            "assessment.events",
            bootstrap_servers=bootstrap,
            group_id=f"bench-{uuid4().hex[:6]}",
            auto_offset_reset="earliest",
        )
        await baseline.start()
        began, read = time.perf_counter(), 0
        while read < EVENTS:
            batch = await baseline.getmany(timeout_ms=1000, max_records=500)
            read += sum(len(v) for v in batch.values())
        plain_rate = read / (time.perf_counter() - began)
        await baseline.stop()

        idle = rss_mib(pid)
        readies = [asyncio.Event() for _ in range(CLIENTS)]
        clients = [asyncio.create_task(count_sse(url, headers, 1, r)) for r in readies]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
        await asyncio.sleep(3)  # a few heartbeats to every client
        held = rss_mib(pid)
        sent = time.perf_counter()
        await producer.send_and_wait("assessment.events", cloudevent())
        done = await asyncio.wait_for(asyncio.gather(*clients), 120)
        fan_out = max(done) - sent
        await producer.stop()

        print(f"events/s broker → dashboard → SSE client: {sse_rate:8.0f}  ({EVENTS} events)")
        print(f"events/s broker → plain Kafka consumer:   {plain_rate:8.0f}  (baseline, same run)")
        print(f"concurrent SSE clients on one worker:     {CLIENTS:8d}  (heartbeat 1 s)")
        print(
            f"worker RSS: {idle:.1f} MiB idle → {held:.1f} MiB with {CLIENTS} clients "
            f"({(held - idle) * 1024 / max(1, CLIENTS):.1f} KiB per client)"
        )
        print(f"one event reaches all {CLIENTS} clients in {fan_out * 1000:.0f} ms")


if __name__ == "__main__":
    main()
