"""Grade intake benchmark: grades accepted per second, and from a grade's arrival to its
outcome event on Kafka.

The assessment service runs as its own uvicorn process (one worker, with its outbox relay
and consumer) on the real engines. The catalogue's and enrolment's events that it needs
(a published micro-credential, an offering, GRADES confirmed enrolments) are produced to
Kafka as the other services would, and consumed by the service itself. Then GRADES grades
are posted over HTTP, CONCURRENCY at a time, while a Kafka consumer waits for each
enrolment's outcome event (AssessmentPassed / AssessmentFailed) on `assessment.events`.

    ./dev bench grade_intake
    GRADES=500 CONCURRENCY=8 FORMAT=xapi ./dev bench grade_intake

FORMAT: native (default), lti (AGS scores, learners mapped by roster links) or xapi
(statements, learners mapped by their actor account's roster link; the summative activity
declared). Uses DATABASE_URL if set (else the embedded
PostgreSQL) and KAFKA_BOOTSTRAP_SERVERS if set (else the embedded broker); works in a
throwaway database, dropped at the end.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
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
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from credstack import devauth, engines, migrations
from credstack.contracts.catalogue import (
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.contracts.envelope import Event, to_cloudevent
from credstack.db import libpq_url
from credstack.kafka import ensure_topics

GRADES = int(os.environ.get("GRADES", "2000"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "16"))
FORMAT = os.environ.get("FORMAT", "native")
REPO = Path(__file__).resolve().parents[2]
OUTCOMES = ("AssessmentPassed", "AssessmentFailed")
XAPI_SECRET = "bench-lrs-secret-000000001"
XAPI_ACTIVITY = "https://lms.example/assessment/1"  # declared the summative activity


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


async def produce(kafka: str, events: list[Event]) -> None:
    """Publish events as their producing service would (CloudEvents, keyed by aggregate)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=False, linger_ms=5)
    await producer.start()
    try:
        now = datetime.now(UTC)
        for event in events:
            topic = f"{event.producer}.events"
            envelope = to_cloudevent(
                event, event_id=uuid4(), time=now, source="/bench", traceparent=None
            )
            await producer.send(
                topic, key=event.key().encode(), value=json.dumps(envelope).encode()
            )
        await producer.flush()
    finally:
        await producer.stop()


async def wait_for_enrolments(database_url: str, expected: int) -> None:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        query = "SELECT count(*) FROM assessment.enrolment"
        while True:
            if await connection.fetchval(query) >= expected:
                return
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


class Outcomes:
    """Each enrolment's outcome event, with the time it was received from Kafka."""

    def __init__(self, kafka: str) -> None:
        self.consumer = AIOKafkaConsumer(
            "assessment.events",
            bootstrap_servers=kafka,
            group_id=f"bench-{uuid4().hex[:8]}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        self.received: dict[str, float] = {}

    async def start(self) -> None:
        await self.consumer.start()
        while not self.consumer.assignment():
            await self.consumer.getmany(timeout_ms=200)
        await self.consumer.seek_to_end()

    async def collect(self, expected: int, within_seconds: float) -> None:
        deadline = time.perf_counter() + within_seconds
        while len(self.received) < expected and time.perf_counter() < deadline:
            batches = await self.consumer.getmany(timeout_ms=200, max_records=1000)
            arrived = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    event = json.loads(message.value or b"{}")
                    if event["type"].split(".")[2] in OUTCOMES:
                        self.received.setdefault(event["subject"], arrived)

    async def stop(self) -> None:
        await self.consumer.stop()


def grade_request(
    enrolment_id: UUID, score: int, offering_id: UUID, lms: dict[str, str]
) -> dict[str, Any]:
    """The HTTP request the chosen FORMAT sends for one grade."""
    if FORMAT == "lti":
        return {
            "method": "POST",
            "url": f"/lti/offerings/{offering_id}/lineitem/scores",
            "headers": {**lms, "Content-Type": "application/vnd.ims.lis.v1.score+json"},
            "content": json.dumps(
                {
                    "userId": f"user-{enrolment_id}",
                    "timestamp": datetime.now(UTC).isoformat(),
                    "scoreGiven": score,
                    "scoreMaximum": 100,
                    "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded",
                }
            ),
        }
    if FORMAT == "xapi":
        basic = base64.b64encode(f"bench-lrs:{XAPI_SECRET}".encode()).decode()
        return {
            "method": "POST",
            "url": "/xapi/statements",
            "headers": {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"},
            "json": {
                "actor": {
                    "account": {"homePage": "https://lms.example", "name": str(enrolment_id)}
                },
                "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"},
                "object": {"id": XAPI_ACTIVITY},
                "result": {"score": {"scaled": score / 100}},
            },
        }
    return {
        "method": "POST",
        "url": "/grades",
        "headers": lms,
        "json": {"enrolment_id": str(enrolment_id), "score": score},
    }


async def run(base: str, kafka: str, database_url: str, key: Any) -> None:
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
    offering = OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=1,
        code=item.code,
        title=item.title,
        starts_on=datetime.now(UTC).date(),
        ends_on=datetime.now(UTC).date(),
        enrolment_opens_at=datetime.now(UTC),
        enrolment_closes_at=datetime.now(UTC),
        capacity=GRADES,
        delivery_mode="on-campus",
        fee_cents=0,
    )
    enrolments = [
        EnrolmentConfirmed(
            enrolment_id=uuid4(),
            learner_id=uuid4(),
            learner_name=f"Learner {n}",
            email=f"learner{n}@example.org",
            offering_id=offering.offering_id,
            micro_credential_id=item.micro_credential_id,
            micro_credential_version=1,
            confirmed_at=datetime.now(UTC),
        )
        for n in range(GRADES)
    ]
    started = time.perf_counter()
    await produce(kafka, [item, offering, *enrolments])
    await wait_for_enrolments(database_url, GRADES)
    seconds = time.perf_counter() - started
    print(f"{GRADES} confirmed enrolments consumed from Kafka in {seconds:.1f} s")

    staff = {"Authorization": f"Bearer {devauth.mint(key, role='staff', subject='bench-staff')}"}
    kind = {"native": "native", "lti": "lti", "xapi": "xapi"}[FORMAT]
    client_id = "bench-lrs" if FORMAT == "xapi" else "bench-lms"
    registration: dict[str, Any] = {
        "kind": kind,
        "name": "Bench",
        "offering_ids": [str(offering.offering_id)],
    }
    if FORMAT == "lti":
        registration |= {"lti_issuer": "https://lms.example", "lti_deployment_id": "bench"}
    if FORMAT == "xapi":
        registration["secret"] = XAPI_SECRET
    token = devauth.mint(key, role="lms", subject="bench", client_id=client_id)
    lms = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        (
            await http.put(f"/lms-clients/{client_id}", json=registration, headers=staff)
        ).raise_for_status()
        if FORMAT in ("lti", "xapi"):
            for e in enrolments:
                subject = (
                    f"user-{e.enrolment_id}"
                    if FORMAT == "lti"
                    else f"https://lms.example|{e.enrolment_id}"
                )
                link = {
                    "client_id": client_id,
                    "subject": subject,
                    "offering_id": str(offering.offering_id),
                    "enrolment_id": str(e.enrolment_id),
                }
                (await http.post("/roster-links", json=link, headers=staff)).raise_for_status()
        if FORMAT == "xapi":
            declared = await http.put(
                f"/lms-clients/{client_id}/offerings/{offering.offering_id}/activities",
                json={"activities": [{"activity": XAPI_ACTIVITY, "summative": True}]},
                headers=staff,
            )
            declared.raise_for_status()

        outcomes = Outcomes(kafka)
        await outcomes.start()
        sent: dict[str, float] = {}
        latencies: list[float] = []
        refused: list[str] = []
        queue = list(enumerate(enrolments))

        async def worker() -> None:
            while queue:
                n, enrolment = queue.pop()
                request = grade_request(
                    enrolment.enrolment_id, 50 + n % 50, offering.offering_id, lms
                )
                began = time.perf_counter()
                sent[str(enrolment.enrolment_id)] = began
                response = await http.request(**request)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    refused.append(f"{response.status_code} {response.text[:200]}")

        began = time.perf_counter()
        collecting = asyncio.create_task(outcomes.collect(GRADES, within_seconds=300))
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        intake_seconds = time.perf_counter() - began
        await collecting
        await outcomes.stop()

    arrival_to_event = [
        outcomes.received[key] - sent[key] for key in sent if key in outcomes.received
    ]
    print(f"format {FORMAT}, {GRADES} grades, {CONCURRENCY} concurrent, one uvicorn worker\n")
    print(f"grades accepted per second     {(GRADES - len(refused)) / intake_seconds:>8.0f}")
    print(
        f"HTTP response        ms  p50 {statistics.median(latencies) * 1000:>7.1f}"
        f"  p99 {percentile(latencies, 0.99) * 1000:>7.1f}"
    )
    if arrival_to_event:
        print(
            f"grade → outcome event ms  p50 {statistics.median(arrival_to_event) * 1000:>7.1f}"
            f"  p99 {percentile(arrival_to_event, 0.99) * 1000:>7.1f}"
            f"  max {max(arrival_to_event) * 1000:>7.1f}"
        )
    print(f"outcome events received        {len(outcomes.received):>8} of {GRADES}")
    if refused:
        print(f"refused: {len(refused)}, e.g. {refused[0]}")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="credstack-bench-"))
    backbone = engines.ScratchBackbone(work, REPO / ".data" / "bench-postgres")
    database_url, kafka = backbone.database_url, backbone.kafka
    process = None
    try:
        migrations.upgrade(database_url, "assessment")
        key = devauth.signing_key(work / "keys")
        port = engines.free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_IDEMPOTENCE": os.environ.get(
                "KAFKA_IDEMPOTENCE", str(backbone.broker is None).lower()
            ),
            "AUTH_JWKS_URL": (work / "keys" / devauth.JWKS_FILE).as_uri(),
            "ASSESSMENT_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "ASSESSMENT_DATA_DIR": str(work),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "assessment.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=(work / "assessment.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        engines.wait_for_port(port, timeout=60, process=process)
        asyncio.run(
            ensure_topics(kafka, ["catalogue.events", "enrolment.events", "assessment.events"])
        )
        asyncio.run(run(f"http://127.0.0.1:{port}", kafka, database_url, key))
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        backbone.close()


if __name__ == "__main__":
    main()
