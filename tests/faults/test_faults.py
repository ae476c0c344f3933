"""Faults under a stream of journeys through the real service processes, each case then
checked through the services' APIs: one live credential per released pass, nothing
unsent, nothing parked, the reconciler has nothing to repair.

Bounded: a handful of journeys per case, in parallel threads.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from credstack import devauth, devstack, engines
from credstack.db import libpq_url
from credstack.demo import JourneyResult
from credstack.reconcile import reconcile

from .conftest import journey


def staff_headers(stack: devstack.Stack) -> dict[str, str]:
    token = devauth.mint(devauth.signing_key(Path(stack.data_dir)), role="staff")
    return {"Authorization": f"Bearer {token}"}


def in_parallel(stack: devstack.Stack, count: int) -> tuple[list[threading.Thread], list[Any]]:
    """Start `count` journeys; their results (or errors) land in the returned list."""
    outcomes: list[Any] = []

    def run() -> None:
        try:
            outcomes.append(journey(stack).run())
        except Exception as error:  # reported by the assertion below
            outcomes.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def finished(threads: list[threading.Thread], outcomes: list[Any]) -> list[JourneyResult]:
    for thread in threads:
        thread.join(timeout=180)
    failures = [o for o in outcomes if not isinstance(o, JourneyResult)]
    assert not failures, failures
    assert len(outcomes) == len(threads)
    return outcomes


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def check_invariants(stack: devstack.Stack, results: list[JourneyResult]) -> None:
    headers = staff_headers(stack)
    urls = {s: stack.url(s) for s in devstack.SERVICES}
    for result in results:
        found = httpx.get(
            f"{urls['issuer']}/credentials",
            params={"enrolment_id": result.enrolment_id},
            headers=headers,
        ).json()["items"]
        live = [c for c in found if c["status"] == "active"]
        assert len(live) == 1, (result.enrolment_id, found)

    def quiet() -> bool:
        return reconcile(urls, headers, dry_run=True).consistent

    wait_for(quiet, 30, "the outboxes to drain and every released result to match")
    for service, url in urls.items():
        parked = httpx.get(f"{url}/admin/parked-events", headers=headers).json()["items"]
        assert parked == [], (service, parked)


def test_a_broker_crash_while_the_issuer_lags_loses_no_credential(
    fault_stack: devstack.Stack,
) -> None:
    stack = fault_stack
    headers = staff_headers(stack)
    issuer = stack.processes["issuer"].popen
    assert issuer is not None
    os.kill(issuer.pid, signal.SIGSTOP)  # the issuer falls behind
    try:
        threads, outcomes = in_parallel(stack, 4)

        def released() -> bool:
            page = httpx.get(
                f"{stack.url('assessment')}/admin/decisions", headers=headers, params={"limit": 500}
            ).json()
            return len(page["items"]) >= 4

        wait_for(released, 120, "four passes released while the issuer is stopped")
        assert stack.broker is not None
        os.killpg(stack.broker.pid, signal.SIGKILL)  # the passes the issuer had not read: gone
        stack.broker.wait(10)
        stack.broker = engines.start_broker(
            stack.broker_port, Path(stack.data_dir) / "logs" / "broker.log"
        )
    finally:
        os.kill(issuer.pid, signal.SIGCONT)
    check_invariants(stack, finished(threads, outcomes))
    losses = [
        httpx.get(f"{stack.url(s)}/admin/outbox", headers=headers).json()["broker_losses_seen"]
        for s in ("assessment",)
    ]
    assert losses[0] >= 1


def test_database_connections_killed_mid_journey_park_nothing_and_lose_nothing(
    fault_stack: devstack.Stack,
) -> None:
    """Every backend of the stack's database is terminated (57P01 admin shutdown) again
    and again while journeys run: transient, so retried, never parked."""
    stack = fault_stack
    assert stack.database_url is not None
    database = make_url(stack.database_url).database
    threads, outcomes = in_parallel(stack, 3)
    stop = time.monotonic() + 8

    async def terminate_all() -> None:
        admin = await asyncpg.connect(libpq_url(stack.database_url or ""))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
        finally:
            await admin.close()

    import asyncio

    while time.monotonic() < stop:
        asyncio.run(terminate_all())
        time.sleep(0.7)
    check_invariants(stack, finished(threads, outcomes))
