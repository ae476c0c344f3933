"""Pipeline benchmark: passing grades through the LMS API → signed, retrievable credentials.

The assessment service and the issuer run as their own uvicorn processes (one worker each,
with their outbox relays and consumers) on the embedded PostgreSQL and broker. The
catalogue's and enrolment's events they need (a published micro-credential, an offering,
N confirmed enrolments) are produced to Kafka as those services would. Then N passing grades
are posted to the assessment service's LMS API:

- at a fixed arrival rate (``--rate``, open loop: grade i is sent at t0 + i/rate whether or
  not earlier ones have been answered), or
- all at once (``--rate 0``: the bulk case, an LMS closing a cohort; ``--concurrency``
  requests in flight), one grade per request or (``--batch K``) K xAPI statements per
  request. A 503 is retried after its ``Retry-After`` (``lms.py``).

Each grade → credential latency runs from sending the grade to the issuer's
``CredentialIssued`` event (published after the credential is committed, so it is
retrievable). At the end it reads every stored credential, checks that each verifies
(eddsa-rdfc-2022, with the issuer's key) and that no enrolment has two (in the table or
in the events), and fetches one from the issuer's public API.
The baseline is one process that builds, canonicalizes, signs and stores credentials in
PostgreSQL as fast as it can, measured in the same run.

    ./dev bench pipeline --n 300 --rate 20
    ./dev bench pipeline --n 10000 --rate 0      # bulk, one grade per request
    ./dev bench pipeline --n 10000 --rate 0 --batch 200   # bulk as an LRS closing a cohort
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credstack import devauth, engines, migrations
from credstack.contracts.catalogue import (
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.db import libpq_url
from credstack.kafka import ensure_topics
from issuer.keys import IssuerKeys, Signing
from issuer.standards import bitstring_status_list, data_integrity
from issuer.standards.jsonld import OfflineDocumentLoader
from issuer.standards.multikey import secret_key_multibase
from issuer.standards.openbadges3 import (
    Issuance,
    IssuerProfile,
    Pass,
    Recipient,
    StatusEntry,
    new_salt,
    open_badge_credential,
)

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("grade_intake", REPO / "bench/grade_intake/run.py")
assert _spec is not None and _spec.loader is not None
intake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(intake)
_spec = importlib.util.spec_from_file_location("pipeline_lms", REPO / "bench/pipeline/lms.py")
assert _spec is not None and _spec.loader is not None
lms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lms)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


async def baseline(database_url: str, key: Ed25519PrivateKey, seconds: float) -> float:
    """Credentials built, signed and stored per second by one process, flat out."""
    signing = Signing(IssuerKeys("did:web:bench.example", (key,)), OfflineDocumentLoader())
    profile = IssuerProfile(did="did:web:bench.example", name="Bench U", url="https://b.example")
    connection = await asyncpg.connect(libpq_url(database_url))
    await connection.execute("CREATE TEMP TABLE signed (id uuid PRIMARY KEY, document jsonb)")
    done, started = 0, time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            now = datetime.now(UTC)
            issuance = Issuance(
                credential_id=uuid4(),
                issuer=profile,
                recipient=Recipient("Ada", "ada@example.org"),
                base_url="https://b.example",
                issued_at=now,
                salt=new_salt(),
                status=StatusEntry(bitstring_status_list.list_url("https://b.example", 1), done),
            )
            document = open_badge_credential(
                issuance, intake_snapshot(), Pass(Decimal(85), [], now)
            )
            signed = signing.sign(document, at=now)
            await connection.execute(
                "INSERT INTO signed VALUES ($1, $2::jsonb)",
                issuance.credential_id,
                json.dumps(signed),
            )
            done += 1
    finally:
        await connection.close()
    return done / (time.perf_counter() - started)


def intake_snapshot() -> dict[str, Any]:
    return {
        "micro_credential_id": str(uuid4()),
        "version": 1,
        "code": "BENCH-101",
        "title": "Benchmark micro-credential",
        "description": "Bench",
        "learning_outcomes": [{"id": "LO1", "description": "a"}],
        "pass_mark": "70",
        "credit_points": "3.125",
        "notional_hours": "65",
        "cpd_hours": "65",
        "language": "en",
        "expiry_months": None,
    }


class Issued:
    """Each enrolment's CredentialIssued events (all of them: a second one is a duplicate)."""

    def __init__(self, kafka: str) -> None:
        self.consumer = AIOKafkaConsumer(
            "issuer.events",
            bootstrap_servers=kafka,
            group_id=f"bench-{uuid4().hex[:8]}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        self.received: dict[str, float] = {}
        self.credentials: dict[str, list[str]] = {}
        #: How many to wait for: lowered once the grades refused are known.
        self.expected = 0

    async def start(self) -> None:
        await self.consumer.start()
        while not self.consumer.assignment():
            await self.consumer.getmany(timeout_ms=200)
        await self.consumer.seek_to_end()

    async def collect(self, expected: int, within_seconds: float) -> None:
        self.expected = expected
        deadline = time.perf_counter() + within_seconds
        while len(self.received) < self.expected and time.perf_counter() < deadline:
            batches = await self.consumer.getmany(timeout_ms=200, max_records=1000)
            arrived = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    event = json.loads(message.value or b"{}")
                    if event["type"].split(".")[2] != "CredentialIssued":
                        continue
                    data = event["data"]
                    enrolment = str(data["enrolment_id"])
                    self.received.setdefault(enrolment, arrived)
                    self.credentials.setdefault(enrolment, []).append(data["credential_id"])

    async def stop(self) -> None:
        await self.consumer.stop()


def serve(module: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"{module}.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    engines.wait_for_port(port, timeout=120, process=process)
    return process


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(
    arguments: argparse.Namespace,
    urls: dict[str, str],
    kafka: str,
    database_url: str,
    auth_key: Any,
    signing_key: Ed25519PrivateKey,
    pids: dict[str, int],
) -> None:
    n, rate = arguments.n, arguments.rate
    item = MicroCredentialPublished(
        micro_credential_id=uuid4(),
        version=1,
        code="BENCH-101",
        title="Benchmark micro-credential",
        description="Bench",
        learning_outcomes=[LearningOutcome(id="LO1", description="a")],
        credit_points=Decimal("3.125"),
        notional_hours=Decimal(65),
        cpd_hours=Decimal(65),
        published_at=datetime.now(UTC),
    )
    now = datetime.now(UTC)
    offering = OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=1,
        code=item.code,
        title=item.title,
        starts_on=now.date(),
        ends_on=now.date(),
        enrolment_opens_at=now,
        enrolment_closes_at=now,
        capacity=n,
        delivery_mode="on-campus",
        fee_cents=0,
    )
    enrolments = [
        EnrolmentConfirmed(
            enrolment_id=uuid4(),
            learner_id=uuid4(),
            learner_name=f"Learner {i}",
            email=f"learner{i}@example.org",
            offering_id=offering.offering_id,
            micro_credential_id=item.micro_credential_id,
            micro_credential_version=1,
            confirmed_at=now,
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    await intake.produce(kafka, [item, offering, *enrolments])
    await intake.wait_for_enrolments(database_url, n)
    print(f"{n} confirmed enrolments consumed in {time.perf_counter() - started:.1f} s")
    print("RSS idle (MB): " + ", ".join(f"{s} {rss_mb(p):.0f}" for s, p in pids.items()))

    staff = {"Authorization": f"Bearer {devauth.mint(auth_key, role='staff', subject='bench')}"}
    lms_headers = {
        "Authorization": "Bearer "
        + devauth.mint(auth_key, role="lms", subject="bench", client_id="bench-lms")
    }
    issued = Issued(kafka)
    await issued.start()
    async with httpx.AsyncClient(base_url=urls["assessment"], timeout=120) as http:
        ids = [e.enrolment_id for e in enrolments]
        if arguments.batch:
            await lms.register_lrs(http, staff, offering.offering_id, ids)
        else:
            registration = {
                "kind": "native",
                "name": "Bench",
                "offering_ids": [str(offering.offering_id)],
            }
            (
                await http.put("/lms-clients/bench-lms", json=registration, headers=staff)
            ).raise_for_status()
        collecting = asyncio.create_task(issued.collect(n, within_seconds=arguments.timeout))
        sender = lms.Sender(http, arguments.concurrency)

        async def grade(enrolment_id: UUID, at: float) -> None:
            if rate > 0:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
            await sender.post([enrolment_id], lms.native_grade(enrolment_id, lms_headers))

        print(f"posting {n} grades", flush=True)
        t0 = time.perf_counter() + 0.5
        began = time.perf_counter()
        if arguments.batch:
            cohorts = [ids[i : i + arguments.batch] for i in range(0, n, arguments.batch)]
            await asyncio.gather(*(sender.post(c, lms.xapi_statements(c)) for c in cohorts))
        else:
            await asyncio.gather(
                *(grade(e, t0 + i / rate if rate > 0 else 0.0) for i, e in enumerate(ids))
            )
        posted = time.perf_counter() - began
        issued.expected = n - sender.refused_grades  # a refused grade makes no credential
        print("RSS under load (MB): " + ", ".join(f"{s} {rss_mb(p):.0f}" for s, p in pids.items()))
        await collecting
        elapsed = time.perf_counter() - began
        await issued.stop()

    sent, refused = sender.sent, sender.refused
    latencies = [issued.received[k] - sent[k] for k in sent if k in issued.received]
    mode = (
        f"open loop at {rate:g} grades/s"
        if rate > 0
        else f"all at once, {arguments.concurrency} requests in flight"
    )
    if arguments.batch:
        mode += f", xAPI statements {arguments.batch} per request"
    print(
        f"\n{n} passing grades, {mode}; posted in {posted:.1f} s, "
        f"{sender.refused_grades} refused, {sender.retries} requests retried after 503"
    )
    print(f"credentials issued             {len(issued.received):>8} of {n} in {elapsed:.1f} s")
    print(f"throughput (credentials/s)     {len(issued.received) / elapsed:>8.1f}")
    if latencies:
        print(
            "grade → credential ms  "
            + "  ".join(
                f"p{int(q * 100)} {percentile(latencies, q) * 1000:>8.0f}"
                for q in (0.5, 0.95, 0.99)
            )
        )
    if refused:
        print(f"refused, e.g. {refused[0]}")

    duplicates = {k: v for k, v in issued.credentials.items() if len(set(v)) > 1}
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT enrolment_id FROM issuer.credential GROUP BY enrolment_id HAVING count(*) > 1"
        )
        documents = await connection.fetch("SELECT id, document::text AS d FROM issuer.credential")
    finally:
        await connection.close()
    async with httpx.AsyncClient(base_url=urls["issuer"]) as http:
        did = (await http.get("/.well-known/did.json")).json()["id"]
        sample = documents[0]["id"] if documents else None
        retrievable = sample is not None and (
            (await http.get(f"/credentials/{sample}")).status_code == 200
        )
    keys = IssuerKeys(did, (signing_key,))
    loader = OfflineDocumentLoader()
    failed = [
        r["id"]
        for r in documents
        if not data_integrity.verify(
            json.loads(r["d"]), public_key_for=keys.public_key, loader=loader
        )
    ]
    print(
        f"checked: {len(documents)} stored credentials, {len(failed)} fail to verify, "
        f"{len(rows) + len(duplicates)} duplicated enrolments; a sample is retrievable over "
        f"HTTP: {retrievable}"
    )
    rate_base = await baseline(database_url, signing_key, arguments.baseline_seconds)
    print(f"baseline: one process build + sign + store  {rate_base:>8.1f} /s")
    ratio = len(issued.received) / elapsed / rate_base
    print(f"pipeline throughput / baseline               {ratio:>8.2f} x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="learners / grades")
    parser.add_argument("--rate", type=float, default=20.0, help="grades/s; 0 = all at once")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        help="bulk as an LRS closing a cohort: K xAPI statements per request (0: one native "
        "POST /grades per grade)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait")
    parser.add_argument("--signing-workers", type=int, default=0)
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="credstack-bench-pipeline-"))
    backbone = engines.ScratchBackbone(work, REPO / ".data" / "bench-postgres")
    database_url, kafka = backbone.database_url, backbone.kafka
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        migrations.upgrade(database_url, "assessment")
        migrations.upgrade(database_url, "issuer")
        auth_key = devauth.signing_key(work / "keys")
        signing_key = Ed25519PrivateKey.generate()
        ports = {"assessment": engines.free_port(), "issuer": engines.free_port()}
        urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_IDEMPOTENCE": str(backbone.broker is None).lower(),
            "AUTH_JWKS_URL": (work / "keys" / devauth.JWKS_FILE).as_uri(),
            "CREDSTACK_DEV_STACK": "true",
            "ASSESSMENT_PUBLIC_URL": urls["assessment"],
            "ASSESSMENT_DATA_DIR": str(work / "assessment"),
            "ISSUER_PUBLIC_URL": urls["issuer"],
            "ISSUER_DATA_DIR": str(work / "issuer"),
            "ISSUER_SIGNING_KEYS": json.dumps([secret_key_multibase(signing_key)]),
            "ISSUER_SIGNING_WORKERS": str(arguments.signing_workers),
        }
        asyncio.run(
            ensure_topics(
                kafka,
                ["catalogue.events", "enrolment.events", "assessment.events", "issuer.events"],
            )
        )
        for service in ("assessment", "issuer"):
            processes[service] = serve(service, ports[service], env, work / f"{service}.log")
        pids = {s: p.pid for s, p in processes.items()}
        asyncio.run(run(arguments, urls, kafka, database_url, auth_key, signing_key, pids))
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(10)
        backbone.close()


if __name__ == "__main__":
    main()
