"""Catalogue search benchmark: 10,000 published micro-credentials, typical website queries.

Prints requests per second and p50/p99 latency per query, beside a bare FastAPI endpoint
and the catalogue's own `/healthz` measured the same way in the same run (same machine,
same client, same concurrency), so the figures say what the search adds over the web
framework and over the service's fixed cost per request.

The load comes from `wrk` (installed from Debian by `bench all` when missing) for
SECONDS each; without it, from a Python client (REQUESTS each), which saturates before
the service does.

    ./dev bench catalogue_search
    ITEMS=2000 SECONDS=5 CONCURRENCY=8 ./dev bench catalogue_search

Uses DATABASE_URL if set (else the embedded PostgreSQL) and KAFKA_BOOTSTRAP_SERVERS if
set (else the embedded broker); works in a throwaway database, dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from credstack import engines, migrations
from credstack.db import libpq_url

ITEMS = int(os.environ.get("ITEMS", "10000"))
REQUESTS = int(os.environ.get("REQUESTS", "1000"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "16"))
SECONDS = int(os.environ.get("SECONDS", "10"))
REPO = Path(__file__).resolve().parents[2]

WORDS = [
    *("data", "analytics", "leadership", "climate", "policy", "governance", "carbon", "energy"),
    *("ethics", "security", "cyber", "negotiation", "coaching", "communication", "strategy"),
    *("finance", "health", "nursing", "education", "design", "law", "evaluation", "evidence"),
    *("regulation", "adaptation", "risk", "machine", "learning", "visual", "storytelling"),
]
FIELDS = ["Information Technology", "Management and Commerce", "Society and Culture", "Health"]
QUERIES = {
    "bare FastAPI endpoint (baseline)": ("bare", "/ping", {}),
    "catalogue /healthz (baseline)": ("catalogue", "/healthz", {}),
    "browse, first page": ("catalogue", "/micro-credentials", {}),
    "browse, a later page (cursor)": ("catalogue", "/micro-credentials", {"cursor": "?"}),
    "by fee, a later page (cursor)": (
        "catalogue",
        "/micro-credentials",
        {"sort": "fee", "cursor": "?"},
    ),
    "full text 'data analytics'": ("catalogue", "/micro-credentials", {"q": "data analytics"}),
    "full text + filters": (
        "catalogue",
        "/micro-credentials",
        {"q": "leadership", "category": "senior-executive-education", "fee_max_cents": "200000"},
    ),
    "open now, soonest first": (
        "catalogue",
        "/micro-credentials",
        {"open_now": "true", "sort": "next_start"},
    ),
    "detail by code": ("catalogue", "/micro-credentials/BENCH-00042", {}),
}

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()

@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}
"""


async def load(database_url: str) -> None:
    """Insert ITEMS published micro-credentials and one offering each, in bulk."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        items, offerings = [], []
        for n in range(ITEMS):
            item_id = uuid4()
            words = rng.sample(WORDS, 4)
            title = " ".join(w.capitalize() for w in words[:3])
            items.append(
                (
                    item_id,
                    f"BENCH-{n:05d}",
                    title,
                    f"{title} for professionals",
                    f"A micro-credential on {' and '.join(words)}.",
                    f'[{{"id": "LO1", "description": "Apply {words[0]} to {words[1]}"}}]',
                    rng.choice(
                        [
                            "professional-development",
                            "senior-executive-education",
                            "personal-development",
                        ]
                    ),
                    rng.choice(FIELDS),
                    rng.choice([0, 49500, 99500, 149500, 295000]),
                )
            )
            opens = now + timedelta(days=rng.randint(-30, 30))
            offerings.append(
                (
                    uuid4(),
                    item_id,
                    (opens + timedelta(days=20)).date(),
                    (opens + timedelta(days=50)).date(),
                    opens,
                    opens + timedelta(days=15),
                )
            )
        await connection.executemany(
            """
            INSERT INTO catalogue.micro_credential (id, version, code, status, title, summary,
              description, learning_outcomes, alignments, category, field_of_study,
              credit_points, notional_hours, cpd_hours, delivery_modes, language,
              assessment_description, pass_mark, fee_cents, proposed_by, approved_by,
              created_at, published_at)
            VALUES ($1, 1, $2, 'published', $3, $4, $5, $6::jsonb, '[]', $7, $8, 3.125, 65, 65,
              '["on-campus"]', 'en', 'A report', 70, $9, 'bench', 'approver', now(), now())
            """,
            items,
        )
        await connection.executemany(
            """
            INSERT INTO catalogue.offering (id, micro_credential_id, micro_credential_version,
              starts_on, ends_on, enrolment_opens_at, enrolment_closes_at, capacity,
              delivery_mode, time_zone, fee_cents, status, created_at)
            VALUES ($1, $2, 1, $3, $4, $5, $6, 30, 'on-campus', 'Australia/Sydney', 0,
              'scheduled', now())
            """,
            offerings,
        )
        await connection.execute("ANALYZE catalogue.micro_credential; ANALYZE catalogue.offering")
    finally:
        await connection.close()


def serve(command: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            *command,
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )
    engines.wait_for_port(port, timeout=60, process=process)
    return process


async def measure(base: str, path: str, params: dict[str, str]) -> tuple[float, float, float]:
    latencies: list[float] = []
    remaining = REQUESTS
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(20):
            (await client.get(path, params=params)).raise_for_status()

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await client.get(path, params=params)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return (
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000,
        latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )


def _bench_all() -> Any:
    """bench/all/run.py as a module: its wrk runner and installer."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_all", REPO / "bench" / "all" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wrk_tool() -> str | None:
    if os.environ.get("NO_WRK"):
        return None
    return shutil.which("wrk") or _bench_all().ensure_wrk()


def _wrk(tool: str, url: str, *, pid: int, seconds: int, connections: int) -> tuple[float, ...]:
    """(req/s, p50 ms, p99 ms, server CPU ms per request) of one wrk run."""
    run = _bench_all().wrk(tool, url, pid=pid, seconds=seconds, connections=connections)
    return run.rate, run.p50, run.p99, run.cpu_ms


def _cursor_of_page(base: str, path: str, params: dict[str, str], page: int) -> str:
    """The cursor that asks for page `page` of a search, following next_cursor."""
    cursor = None
    for _ in range(page - 1):
        asked = {k: v for k, v in params.items() if k != "cursor"}
        answer = httpx.get(base + path, params={**asked, **({"cursor": cursor} if cursor else {})})
        cursor = answer.raise_for_status().json()["next_cursor"]
    assert cursor, "fewer pages than asked for"
    return str(cursor)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="credstack-bench-"))
    backbone = engines.ScratchBackbone(work, REPO / ".data" / "bench-postgres")
    database_url, kafka = backbone.database_url, backbone.kafka
    processes = []
    try:
        migrations.upgrade(database_url, "catalogue")
        started = time.perf_counter()
        asyncio.run(load(database_url))
        print(f"loaded {ITEMS} micro-credentials in {time.perf_counter() - started:.1f} s")
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_IDEMPOTENCE": "false",
            "CATALOGUE_RUN_WORKER": "false",
            "AUTH_JWKS_URL": "file:///dev/null",
            # The load generator is one address: without this, the per-client limit
            # (120/minute on search) answers 429 after the first second.
            "CATALOGUE_RATE_LIMIT_CLIENTS": '{"ip:127.0.0.1": "off"}',
        }
        (work / "bare.py").write_text(BARE_APP)
        uvicorn = [sys.executable, "-m", "uvicorn"]
        ports = {"bare": engines.free_port(), "catalogue": engines.free_port()}
        bare = serve([*uvicorn, "bare:app"], ports["bare"], env, work / "bare.log")
        processes.append(bare)
        catalogue = serve(
            [*uvicorn, "--factory", "catalogue.main:create_app"],
            ports["catalogue"],
            env,
            work / "catalogue.log",
        )
        processes.append(catalogue)
        idle = _bench_all().rss_mb(catalogue.pid)
        pids = {"bare": bare.pid, "catalogue": catalogue.pid}
        tool = _wrk_tool()
        if tool:
            print(f"wrk, {SECONDS} s per query, {CONCURRENCY} connections, one worker each\n")
        else:
            print(f"{REQUESTS} requests per query, {CONCURRENCY} concurrent, one worker each\n")
        started = time.perf_counter()
        warm_up = f"http://127.0.0.1:{ports['catalogue']}/micro-credentials"
        httpx.get(warm_up, timeout=120).raise_for_status()
        print(f"first search after start: {time.perf_counter() - started:.2f} s (not counted)")
        print(f"{'query':<36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}")
        for label, (target, path, params) in QUERIES.items():
            base = f"http://127.0.0.1:{ports[target]}"
            if params.get("cursor") == "?":  # a later page: the cursor the 5th page gives
                params = {**params, "cursor": _cursor_of_page(base, path, params, 5)}
            if tool:
                url = str(httpx.URL(base + path, params=params))
                rate, p50, p99, cpu = _wrk(
                    tool, url, pid=pids[target], seconds=SECONDS, connections=CONCURRENCY
                )
            else:
                (rate, p50, p99), cpu = asyncio.run(measure(base, path, params)), float("nan")
            print(f"{label:<36} {rate:>8.0f} {p50:>8.1f} {p99:>8.1f} {cpu:>11.2f}", flush=True)
        loaded = _bench_all().rss_mb(catalogue.pid)
        print(f"\ncatalogue RSS: {idle:.0f} MB idle, {loaded:.0f} MB after the load (target < 150)")
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        backbone.close()


if __name__ == "__main__":
    main()
