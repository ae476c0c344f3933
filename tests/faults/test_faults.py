"""Faults under a steady stream of journeys through the real service processes, each case
then checked through the services' APIs (`support.check_invariants`).

Bounded: two journeys in flight, a few per case, one stack shared by every case (each
leaves it consistent, which its invariant check proves).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.engine import make_url

from credstack import devstack, engines
from credstack.broker import BrokerStorage
from credstack.db import libpq_url
from credstack.demo import JourneyResult
from credstack.reconcile import reconcile

from .conftest import journey
from .support import (
    Stream,
    check_invariants,
    credentials,
    decisions,
    parked,
    script,
    sql,
    staff_headers,
    urls,
    wait_for,
)


def restart(stack: devstack.Stack, service: str) -> None:
    process = stack.processes[service]
    process.start()
    assert process.popen is not None
    engines.wait_for_port(process.port, timeout=60, process=process.popen)


def produce(stack: devstack.Stack, messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send CloudEvents straight to the broker, in this order, as a producer would."""

    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=False
        )
        await producer.start()
        try:
            for topic, envelope in messages:
                await producer.send_and_wait(
                    topic,
                    key=envelope["subject"].encode(),
                    value=json.dumps(envelope).encode(),
                    headers=[("content-type", b"application/cloudevents+json; charset=UTF-8")],
                )
        finally:
            await producer.stop()

    asyncio.run(send())


def outbox_payload(stack: devstack.Stack, service: str, key: str, type_suffix: str) -> Any:
    rows = sql(
        stack,
        f"SELECT payload FROM {service}.outbox WHERE key = $1 AND payload->>'type' LIKE $2 "
        "ORDER BY id",
        key,
        f"%{type_suffix}%",
    )
    assert rows, (service, key, type_suffix)
    return json.loads(rows[0]["payload"])


def losses_seen(stack: devstack.Stack) -> int:
    """Times the services' outboxes saw the broker lose its log, all services together."""
    headers = staff_headers(stack)
    return sum(
        httpx.get(f"{stack.url(s)}/admin/outbox", headers=headers).json()["broker_losses_seen"]
        for s in devstack.SERVICES
    )


@pytest.mark.parametrize("storage", list(BrokerStorage))
def test_a_broker_crash_while_the_issuer_lags_loses_no_credential(
    fault_stack: devstack.Stack, storage: BrokerStorage
) -> None:
    """kill -9 of the broker (Tansu, and its object store with S3 storage) while the issuer
    has passes to read; the case of the storage the stack runs on (`CREDSTACK_BROKER_STORAGE`).
    Memory: the log is lost, and the outboxes see it and re-publish. S3: the log is kept, so
    the issuer reads the passes from the broker and no outbox sees a loss."""
    stack = fault_stack
    broker = stack.broker
    assert broker is not None
    if broker.storage is not storage:
        pytest.skip(f"the fault stack's broker keeps its log in {broker.storage}")
    before, losses_before = len(decisions(stack)), losses_seen(stack)
    issuer = stack.processes["issuer"].popen
    assert issuer is not None
    os.kill(issuer.pid, signal.SIGSTOP)  # the issuer falls behind
    stream = Stream(stack, workers=3).__enter__()
    try:
        wait_for(lambda: len(decisions(stack)) >= before + 3, 120, "passes while the issuer lags")
        broker.restart_after_crash()  # with passes the issuer has not read
    finally:
        os.kill(issuer.pid, signal.SIGCONT)
    check_invariants(stack, stream.finished(at_least=3))
    if storage is BrokerStorage.S3:
        assert losses_seen(stack) == losses_before  # delivered by the log, not re-published
    else:
        assert losses_seen(stack) > losses_before


@pytest.mark.parametrize("service", devstack.SERVICES)
def test_kill_9_of_a_service_mid_journeys_loses_and_doubles_nothing(
    fault_stack: devstack.Stack, service: str
) -> None:
    stack = fault_stack
    with Stream(stack) as stream:
        stream.wait_for_journeys(1)
        done = len(stream.results)
        stack.processes[service].kill()
        time.sleep(1)
        restart(stack, service)
        stream.wait_for_journeys(done + 1)
    check_invariants(stack, stream.finished(at_least=2))


def test_sigterm_mid_journeys_stops_every_service_within_seconds(
    fault_stack: devstack.Stack,
) -> None:
    """Graceful shutdown is bounded: every service, sent SIGTERM mid-journeys, has exited
    within 5 s; restarted, the journeys complete and nothing is lost or doubled."""
    stack = fault_stack
    with Stream(stack) as stream:
        stream.wait_for_journeys(1)
        popens = {s: stack.processes[s].popen for s in devstack.SERVICES}
        started = time.monotonic()
        for popen in popens.values():
            assert popen is not None
            popen.send_signal(signal.SIGTERM)
        stopped_in = {}
        for service, popen in popens.items():
            assert popen is not None
            popen.wait(timeout=30)
            stopped_in[service] = time.monotonic() - started
        assert max(stopped_in.values()) < 5, stopped_in
        for process in [stack.processes[s] for s in devstack.SERVICES]:
            process.start()
        for service in devstack.SERVICES:
            engines.wait_for_port(stack.ports[service], timeout=60)
        done = len(stream.results)
        stream.wait_for_journeys(done + 1)
    check_invariants(stack, stream.finished(at_least=2))


def test_database_connections_killed_mid_journeys_park_nothing_and_lose_nothing(
    fault_stack: devstack.Stack,
) -> None:
    """Every backend of the stack's database is terminated (57P01 admin shutdown) again
    and again while journeys run: transient, so retried, never parked."""
    stack = fault_stack
    database = make_url(stack.database_url or "").database
    with Stream(stack) as stream:
        stop = time.monotonic() + 6
        while time.monotonic() < stop:
            sql(
                stack,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
            time.sleep(0.7)
        stream.wait_for_journeys(2)
    check_invariants(stack, stream.finished(at_least=2))


def test_a_postgresql_restart_mid_journeys_loses_and_doubles_nothing(
    fault_stack: devstack.Stack,
) -> None:
    stack = fault_stack
    with Stream(stack) as stream:
        stream.wait_for_journeys(1)
        done = len(stream.results)
        engines.restart_embedded_postgres((Path(stack.data_dir) / "postgres").resolve())
        stream.wait_for_journeys(done + 2)
    check_invariants(stack, stream.finished(at_least=3))


DEADLOCK_TRIGGER = """
CREATE OR REPLACE FUNCTION issuer.fault_deadlock() RETURNS trigger AS $$
BEGIN
  -- The issuer's write takes (7001, 2) then waits for (7001, 1), which the test holds
  -- while it then asks for (7001, 2): a genuine deadlock, and the issuer is its victim.
  PERFORM pg_advisory_xact_lock(7001, 2);
  PERFORM pg_advisory_xact_lock(7001, 1);
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fault_deadlock BEFORE INSERT ON issuer.credential
  FOR EACH ROW EXECUTE FUNCTION issuer.fault_deadlock();
"""


def test_a_deadlock_on_the_issuers_write_is_retried_not_parked(
    fault_stack: devstack.Stack,
) -> None:
    stack = fault_stack
    url = libpq_url(stack.database_url or "")

    async def deadlock() -> None:
        holder = await asyncpg.connect(url)
        watcher = await asyncpg.connect(url)
        try:
            await holder.execute("SET deadlock_timeout = '10s'")  # the issuer detects first
            await holder.execute("SELECT pg_advisory_lock(7001, 1)")
            await holder.execute(DEADLOCK_TRIGGER)
            deadline = time.monotonic() + 90
            while not await watcher.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7001 "
                "AND objid = 1 AND objsubid = 2 AND NOT granted"
            ):
                assert time.monotonic() < deadline, "the issuer never wrote a credential"
                await asyncio.sleep(0.1)
            # Now the cycle: granted only once PostgreSQL aborted the issuer's transaction.
            await holder.execute("SELECT pg_advisory_lock(7001, 2)")
            await holder.execute("DROP TRIGGER fault_deadlock ON issuer.credential")
            await holder.execute("DROP FUNCTION issuer.fault_deadlock()")
            await holder.execute("SELECT pg_advisory_unlock_all()")
        finally:
            await holder.close()
            await watcher.close()

    with Stream(stack) as stream:
        asyncio.run(deadlock())
        stream.wait_for_journeys(2)
    log = (Path(stack.data_dir) / "logs" / "issuer.log").read_text()
    # The victim retried: one by one (consumer.retry_transient), or its batch applied again
    # one by one (consumer.batch_failed).
    assert '"sqlstate": "40P01"' in log
    check_invariants(stack, stream.finished(at_least=2))


def test_duplicate_deliveries_issue_nothing_twice(fault_stack: devstack.Stack) -> None:
    """Every event the producers ever published is delivered again (same event ids)."""
    stack = fault_stack
    with Stream(stack) as stream:
        stream.wait_for_journeys(1)
        for service in ("catalogue", "enrolment", "assessment"):
            again = sql(
                stack,
                f'UPDATE {service}.outbox SET published_at = NULL, partition = NULL, "offset" = '
                "NULL WHERE published_at IS NOT NULL RETURNING id",
            )
            assert again
            sql(stack, f"SELECT pg_notify('{service}_outbox', '')")
        stream.wait_for_journeys(len(stream.results) + 1)
    check_invariants(stack, stream.finished(at_least=2))


def test_disorder_a_withdrawal_before_its_pass_and_a_stale_replay_issue_nothing(
    fault_stack: devstack.Stack,
) -> None:
    stack = fault_stack
    headers = staff_headers(stack)
    with Stream(stack) as stream:
        stream.wait_for_journeys(2)
        first, second = stream.results[:2]
    results = stream.finished(at_least=2)

    # A stale replay: staff withdraw `first`'s pass (override: failed), the issuer revokes;
    # then the old pass (sequence 1) is delivered again under a new event id.
    withdrawn = httpx.post(
        f"{stack.url('assessment')}/enrolments/{first.enrolment_id}/moderations",
        headers=headers,
        json={"action": "override", "outcome": "failed", "reason": "misconduct found"},
    )
    assert withdrawn.status_code == 201, withdrawn.text
    wait_for(
        lambda: [c["status"] for c in credentials(stack, first.enrolment_id)] == ["revoked"],
        60,
        "the withdrawn pass's credential to be revoked",
    )
    stale = outbox_payload(stack, "assessment", first.enrolment_id, "AssessmentPassed")
    produce(stack, [("assessment.events", {**stale, "id": str(uuid4())})])

    # Disorder across topics for a new enrolment: its withdrawal (sequence 2), then its
    # pass (sequence 1), then the enrolment's confirmation on another topic.
    confirmed = outbox_payload(stack, "enrolment", second.enrolment_id, "EnrolmentConfirmed")
    passed = outbox_payload(stack, "assessment", second.enrolment_id, "AssessmentPassed")
    enrolment_id, learner_id = str(uuid4()), str(uuid4())

    def copy(envelope: dict[str, Any], **data: Any) -> dict[str, Any]:
        return {
            **envelope,
            "id": str(uuid4()),
            "subject": enrolment_id,
            "data": {**envelope["data"], "enrolment_id": enrolment_id, **data},
        }

    withdrawal = copy(
        passed,
        learner_id=learner_id,
        sequence=2,
        reason="misconduct",
        released_outcome="passed",
    )
    withdrawal["type"] = passed["type"].replace("AssessmentPassed", "ResultWithdrawn")
    produce(
        stack,
        [
            ("assessment.events", withdrawal),
            ("assessment.events", copy(passed, learner_id=learner_id, sequence=1)),
            ("enrolment.events", copy(confirmed, learner_id=learner_id)),
        ],
    )
    # A journey after them on the same topics proves the issuer has read past them.
    later = journey(stack).run()
    time.sleep(1)
    assert credentials(stack, enrolment_id) == []
    assert [c["status"] for c in credentials(stack, first.enrolment_id)] == ["revoked"]
    assert decisions(stack)[first.enrolment_id]["released_outcome"] == "failed"
    check_invariants(stack, [*results, later], others=[enrolment_id])


POISON_TRIGGER = """
CREATE OR REPLACE FUNCTION issuer.fault_poison() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'injected poison: this credential cannot be written'
    USING ERRCODE = 'data_exception';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fault_poison BEFORE INSERT ON issuer.credential
  FOR EACH ROW EXECUTE FUNCTION issuer.fault_poison();
"""


def test_a_poison_event_is_parked_listed_with_its_error_and_replayable(
    fault_stack: devstack.Stack,
) -> None:
    """A pass the issuer cannot apply (a bug, injected as a failing write) is parked after
    its attempts, listed with its error; a replay while it still fails answers 409 saying
    why; once fixed, a replay issues the credential."""
    stack = fault_stack
    headers = staff_headers(stack)
    script(stack, POISON_TRIGGER)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(journey(stack).run()))
    try:
        worker.start()
        wait_for(lambda: bool(parked(stack, "issuer")), 90, "the poisoned pass to be parked")
        [event] = parked(stack, "issuer")
        assert "injected poison" in event["error"], event
        again = httpx.post(
            f"{stack.url('issuer')}/admin/parked-events/{event['id']}/replay", headers=headers
        )
        assert again.status_code == 409, again.text
        assert "injected poison" in again.json()["error"]
    finally:
        sql(stack, "DROP TRIGGER IF EXISTS fault_poison ON issuer.credential")
    replayed = httpx.post(
        f"{stack.url('issuer')}/admin/parked-events/{event['id']}/replay", headers=headers
    )
    assert replayed.status_code == 200, replayed.text
    worker.join(timeout=120)
    assert outcome and isinstance(outcome[0], JourneyResult), outcome
    [listed] = parked(stack, "issuer")
    assert listed["id"] == event["id"] and listed["replayed_at"] is not None
    check_invariants(stack, outcome)


def test_the_reconciler_repairs_a_confirmed_enrolment_the_issuer_never_learnt_of(
    fault_stack: devstack.Stack,
) -> None:
    """The issuer's record of a confirmation is lost (deleted): the reconciler finds the
    confirmed enrolment unknown to the issuer and has enrolment re-announce it."""
    stack = fault_stack
    headers = staff_headers(stack)
    result = journey(stack).run()
    forgotten = sql(
        stack,
        "DELETE FROM issuer.recipient WHERE enrolment_id = $1 RETURNING enrolment_id",
        UUID(result.enrolment_id),
    )
    assert forgotten
    found = reconcile(urls(stack), headers, dry_run=True)
    [finding] = [f for f in found.findings if f.subject == result.enrolment_id]
    assert finding.problem == "confirmed enrolment unknown to issuer", finding
    repaired = reconcile(urls(stack), headers)
    assert repaired.repaired >= 1
    known = f"{stack.url('issuer')}/admin/enrolments/{result.enrolment_id}"
    wait_for(lambda: httpx.get(known, headers=headers).json()["known"], 30, "the issuer to know it")
    check_invariants(stack, [result])


def test_a_burst_of_300_grades_issues_300_credentials_once_each(
    fault_stack: devstack.Stack,
) -> None:
    """300 confirmed enrolments of one free offering, then their 300 passing grades posted
    as fast as the LMS can (8 at a time)."""
    stack = fault_stack
    count = 300
    burst = journey(stack)
    enrolment_ids = burst.enrol_many(count)
    started = time.monotonic()
    burst.grade_many(enrolment_ids, concurrency=8)
    posted_in = time.monotonic() - started

    def all_issued() -> bool:
        released = decisions(stack)
        return all(released.get(e, {}).get("released_outcome") == "passed" for e in enrolment_ids)

    wait_for(all_issued, 120, "300 passes released")

    def all_signed() -> bool:
        return all(
            any(c["status"] == "active" for c in credentials(stack, e)) for e in enrolment_ids
        )

    wait_for(all_signed, 240, "300 credentials signed")
    check_invariants(stack, [], others=enrolment_ids)
    assert posted_in < 120
