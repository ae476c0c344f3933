"""Enrolment flow benchmark: learners enrol, pay at the local checkout and are confirmed.

The enrolment service runs as its own uvicorn process (one worker, with its outbox relay,
consumers, sweeper and the dev stack's local payment provider) on the embedded PostgreSQL
and broker. The catalogue's events it consumes (a published micro-credential and an open
offering with a seat for every learner, and a fee) are produced to Kafka as the catalogue
would. Then ``--learners`` learners go through the whole flow, ``--concurrency`` at a time
(closed loop: a learner starts when another one is confirmed), each with its own dev token
(credstack.devauth), exactly as the website and ``./dev demo`` do:

1. ``PUT /learners/me`` (the name on the credential), ``GET
   /academic-integrity/declaration``, ``POST /learners/me/integrity-declaration``;
2. ``POST /enrolments`` (a held seat, pending payment), ``POST /enrolments/{id}/checkout``;
3. ``POST {checkout_url}/pay`` on the local checkout (a card that succeeds); its
   Stripe-format, Stripe-signed webhooks come back to ``/payments/stripe/webhook``;
4. ``GET /enrolments/{id}`` until it says ``confirmed`` (after 20 ms, then 30, 45… up to
   200 ms between polls, as a page polls).

A flow's latency runs from the first request to the answer that says ``confirmed``.
At least 7 HTTP requests per learner (plus the provider's 2 webhooks). At the end, in
the database: every learner has exactly one enrolment and it is confirmed and paid the
fee once (one paid checkout session, ``amount_paid_cents`` = the fee, one
``EnrolmentConfirmed`` in the outbox); the offering's free seats (public availability)
are its capacity less the learners.

Baseline, measured in the same run: ``GET /healthz`` of the same process with ``wrk`` at
the same concurrency, divided by the HTTP requests of a flow (7, not counting polls and
webhooks): the learners/s the service's fixed cost per request alone would allow, with
no database work at all. The flow's figure over that ceiling says how much of the time
goes to the flow's own work (database round trips, locks, the webhook delivery).

    ./dev bench enrolment                       # 150 learners, concurrency 16
    ./dev bench enrolment --learners 200 --concurrency 16

Uses DATABASE_URL if set (else the embedded PostgreSQL) and KAFKA_BOOTSTRAP_SERVERS if
set (else the embedded broker); works in a throwaway database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from credstack import devauth, engines, migrations
from credstack.contracts.catalogue import (
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)
from credstack.db import libpq_url
from credstack.kafka import ensure_topics

REPO = Path(__file__).resolve().parents[2]
REQUESTS_PER_FLOW = 7
FEE_CENTS = 129500


def _module(name: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_all = _module("bench_all", "bench/all/run.py")


intake = _module("grade_intake", "bench/grade_intake/run.py")


def open_offering(capacity: int) -> tuple[MicroCredentialPublished, OfferingScheduled]:
    """A published micro-credential and an offering open now, as the catalogue says them."""
    now = datetime.now(UTC)
    item = MicroCredentialPublished(
        micro_credential_id=uuid4(),
        version=1,
        code=f"BENCH-ENROL-{uuid4().hex[:6].upper()}",
        title="Benchmark micro-credential",
        description="Bench",
        learning_outcomes=[LearningOutcome(id="LO1", description="a")],
        credit_points=Decimal("3.125"),
        notional_hours=Decimal(65),
        cpd_hours=Decimal(65),
        published_at=now,
    )
    offering = OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=1,
        code=item.code,
        title=item.title,
        starts_on=(now + timedelta(days=14)).date(),
        ends_on=(now + timedelta(days=56)).date(),
        enrolment_opens_at=now - timedelta(hours=1),
        enrolment_closes_at=now + timedelta(days=1),
        capacity=capacity,
        delivery_mode="synchronous-online",
        fee_cents=FEE_CENTS,
    )
    return item, offering


class Flow:
    """One learner's enrol → pay → confirmed, through the service's HTTP API."""

    def __init__(self, http: httpx.AsyncClient, key: Any, offering_id: str) -> None:
        self.http = http
        self.key = key
        self.offering_id = offering_id
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.polls = 0
        self.steps: dict[str, list[float]] = {}

    async def call(self, method: str, url: str, **kwargs: Any) -> Any:
        began = time.perf_counter()
        response = await self.http.request(method, url, **kwargs)
        step = f"{method} {url.split('/')[1] if url.startswith('/') else url.split('/')[3]}"
        step += f"/{url.rsplit('/', 1)[1]}" if method == "POST" and url.count("/") > 1 else ""
        self.steps.setdefault(step, []).append(time.perf_counter() - began)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {url} → {response.status_code}: {response.text[:300]}")
        return response.json()

    async def one(self, index: int) -> None:
        subject = f"bench-learner-{index}-{uuid4().hex[:8]}"
        token = devauth.mint(
            self.key,
            role="learner",
            subject=subject,
            email=f"{subject}@example.org",
            email_verified=True,
        )
        me = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        try:
            await self.call("PUT", "/learners/me", headers=me, json={"name_on_credential": "Ada"})
            declaration = await self.call("GET", "/academic-integrity/declaration")
            await self.call(
                "POST",
                "/learners/me/integrity-declaration",
                headers=me,
                json={"version": declaration["version"]},
            )
            enrolled = await self.call(
                "POST",
                "/enrolments",
                headers={**me, "Idempotency-Key": f"bench-{index}"},
                json={"offering_id": self.offering_id},
            )
            checkout = await self.call("POST", f"/enrolments/{enrolled['id']}/checkout", headers=me)
            await self.call(
                "POST",
                f"{checkout['payment']['checkout_url']}/pay",
                headers={"Accept": "application/json"},
            )
            pause = 0.02
            while (await self.call("GET", f"/enrolments/{enrolled['id']}", headers=me))[
                "status"
            ] != "confirmed":
                self.polls += 1
                await asyncio.sleep(pause)
                pause = min(0.2, pause * 1.5)
            self.latencies.append(time.perf_counter() - started)
        except RuntimeError as failure:
            self.failures.append(str(failure))

    async def run(self, learners: int, concurrency: int) -> float:
        """Closed loop: `concurrency` learners at a time; returns the seconds taken."""
        queue = iter(range(learners))

        async def worker() -> None:
            for index in queue:
                await self.one(index)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - began


async def wait_for_offering(http: httpx.AsyncClient, offering_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = await http.get(f"/offerings/{offering_id}/availability")
        if response.status_code == 200:
            found: dict[str, Any] = response.json()
            return found
        await asyncio.sleep(0.2)
    raise SystemExit("the enrolment service never learnt of the offering")


CHECKS = {
    "learners without exactly one enrolment": """
        SELECT count(*) FROM (SELECT learner_id FROM enrolment.enrolment
        WHERE offering_id = $1 GROUP BY learner_id HAVING count(*) <> 1) AS x""",
    "enrolments not confirmed": """
        SELECT count(*) FROM enrolment.enrolment WHERE offering_id = $1
        AND status <> 'confirmed'""",
    "enrolments not paid the fee exactly once": """
        SELECT count(*) FROM enrolment.enrolment e WHERE offering_id = $1
        AND (amount_paid_cents <> fee_cents OR payment_status <> 'paid' OR (
            SELECT count(*) FROM enrolment.local_checkout_session s
            WHERE s.enrolment_id = e.id AND s.payment_status = 'paid') <> 1)""",
    "enrolments without exactly one EnrolmentConfirmed": """
        SELECT count(*) FROM enrolment.enrolment e WHERE offering_id = $1 AND (
            SELECT count(*) FROM enrolment.outbox o
            WHERE o.payload->>'type' LIKE '%.EnrolmentConfirmed.%'
            AND o.payload->'data'->>'enrolment_id' = e.id::text) <> 1""",
}


async def check(database_url: str, offering_id: Any, learners: int) -> list[str]:
    """What is wrong in the database after the run (empty: nothing)."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        problems = [
            f"{what}: {found}"
            for what, query in CHECKS.items()
            if (found := await connection.fetchval(query, offering_id))
        ]
        total = await connection.fetchval(
            "SELECT count(*) FROM enrolment.enrolment WHERE offering_id = $1", offering_id
        )
    finally:
        await connection.close()
    if total != learners:
        problems.append(f"{total} enrolments for {learners} learners")
    return problems


async def measure(
    arguments: argparse.Namespace, url: str, kafka: str, database_url: str, key: Any, pid: int
) -> None:
    learners, concurrency = arguments.learners, arguments.concurrency
    item, offering = open_offering(capacity=learners + 10)
    await intake.produce(kafka, [item, offering])
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        await wait_for_offering(http, str(offering.offering_id))
        idle = bench_all.rss_mb(pid)
        idle_cpu = bench_all.cpu_seconds(pid)
        await asyncio.sleep(3)
        idle_cpu = (bench_all.cpu_seconds(pid) - idle_cpu) / 3  # the background loops' share
        flow = Flow(http, key, str(offering.offering_id))
        await flow.run(min(concurrency, learners), concurrency)  # warm up: connections, caches
        flow.latencies.clear()
        cpu = bench_all.cpu_seconds(pid)
        elapsed = await flow.run(learners - min(concurrency, learners), concurrency)
        cpu = bench_all.cpu_seconds(pid) - cpu
        after = bench_all.rss_mb(pid)
        availability = await wait_for_offering(http, str(offering.offering_id))
    done = len(flow.latencies)
    rate = done / elapsed
    bench_all.heading(f"enrolment flow ({learners} learners, concurrency {concurrency})")
    tool = bench_all.ensure_wrk()
    health = None
    if tool is not None:
        health = bench_all.wrk(
            tool,
            f"{url}/healthz",
            pid=pid,
            seconds=arguments.seconds,
            connections=concurrency,
            profile=False,
        )
        bench_all.row("baseline: /healthz (wrk)", health.rate, "req/s", note=health.note())
        bench_all.row(
            f"baseline: /healthz ÷ {REQUESTS_PER_FLOW} requests",
            health.rate / REQUESTS_PER_FLOW,
            "learners/s",
        )
    ceiling = health.rate / REQUESTS_PER_FLOW if health else None
    bench_all.row(
        "enrol + pay + confirmed (target >= 100/s)",
        rate,
        "learners/s",
        ceiling,
        f"{done} confirmed in {elapsed:.1f} s, {flow.polls / max(1, done):.1f} polls each",
    )
    if done:
        per_flow = (cpu - idle_cpu * elapsed) / done * 1000
        note = f"(user + system, less the idle {idle_cpu * 100:.0f}% of a core)"
        bench_all.row("service CPU per learner", per_flow, "ms", note=note)
        if health is not None:
            fixed = health.cpu_ms * REQUESTS_PER_FLOW
            bench_all.row(f"baseline: /healthz CPU x {REQUESTS_PER_FLOW}", fixed, "ms")
    if flow.latencies:
        print(
            f"{'flow latency ms':<52} "
            + "  ".join(
                f"p{int(q * 100)} {intake.percentile(flow.latencies, q) * 1000:.0f}"
                for q in (0.5, 0.95, 0.99)
            )
        )
    print(
        "mean ms per request: "
        + ", ".join(
            f"{step} {sum(times) / len(times) * 1000:.0f}" for step, times in flow.steps.items()
        )
    )
    bench_all.row("RSS of the enrolment service idle", idle, "MB")
    bench_all.row("RSS after the load", after, "MB", idle)
    if flow.failures:
        print(f"{len(flow.failures)} flows failed, e.g. {flow.failures[0]}")
    problems = await check(database_url, offering.offering_id, learners)
    seats = availability["seats_free"]
    if seats != offering.capacity - learners:
        problems.append(f"{seats} seats free, expected {offering.capacity - learners}")
    print(
        "checked: "
        + (
            "; ".join(problems)
            if problems
            else "every learner has exactly one "
            "confirmed enrolment, paid once; the seats free match"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=5, help="of the wrk baseline")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="credstack-bench-enrolment-"))
    backbone = engines.ScratchBackbone(work, REPO / ".data" / "bench-postgres")
    database_url, kafka = backbone.database_url, backbone.kafka
    service = None
    try:
        migrations.upgrade(database_url, "enrolment")
        key = devauth.signing_key(work / "keys")
        port = engines.free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_IDEMPOTENCE": str(backbone.broker is None).lower(),
            "AUTH_JWKS_URL": (work / "keys" / devauth.JWKS_FILE).as_uri(),
            "CREDSTACK_DEV_STACK": "true",
            "ENROLMENT_PUBLIC_URL": url,
            "ENROLMENT_DATA_DIR": str(work / "enrolment"),
            # The checkout page and the webhooks come from the load generator's (and the
            # provider's) one address: exempt it, as a real one has many. Each learner's
            # own limits (by token subject) stay as they are.
            "ENROLMENT_RATE_LIMIT_CLIENTS": '{"ip:127.0.0.1": "off"}',
        }
        asyncio.run(ensure_topics(kafka, ["catalogue.events", "enrolment.events"]))
        uvicorn = [bench_all.PYTHON, "-m", "uvicorn", "--log-level", "warning"]
        service = bench_all.serve(
            [*uvicorn, "--factory", "enrolment.main:create_app"], port, env, work / "enrolment.log"
        )
        print(f"enrolment service: pid {service.pid} at {url}", flush=True)
        asyncio.run(measure(arguments, url, kafka, database_url, key, service.pid))
    finally:
        if service is not None:
            service.terminate()
            service.wait(10)
        backbone.close()


if __name__ == "__main__":
    main()
