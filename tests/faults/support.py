"""What every fault case shares: a steady stream of journeys, waiting, and the invariants,
checked through the services' APIs only."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from credstack import devauth, devstack
from credstack.db import libpq_url
from credstack.demo import JourneyResult
from credstack.reconcile import LIVE, reconcile

from .conftest import journey

HTTP = httpx.Client(timeout=30)
"""One client for every check: a new one per request loads the CA store each time."""


def staff_headers(stack: devstack.Stack) -> dict[str, str]:
    token = devauth.mint(devauth.signing_key(Path(stack.data_dir)), role="staff")
    return {"Authorization": f"Bearer {token}"}


def urls(stack: devstack.Stack) -> dict[str, str]:
    return {s: stack.url(s) for s in devstack.SERVICES}


class Stream:
    """`workers` journeys in flight at all times until `stop`; each result (or error) kept."""

    def __init__(self, stack: devstack.Stack, workers: int = 2) -> None:
        self.stack = stack
        self.results: list[JourneyResult] = []
        self.errors: list[BaseException] = []
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(workers)]

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.results.append(journey(self.stack).run())
            except Exception as error:  # reported by `stop`
                self.errors.append(error)

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=240)

    def wait_for_journeys(self, count: int, within: float = 120) -> None:
        wait_for(lambda: len(self.results) >= count or bool(self.errors), within, "journeys")

    def finished(self, at_least: int = 1) -> list[JourneyResult]:
        self.__exit__()
        assert not self.errors, self.errors
        assert len(self.results) >= at_least, self.results
        return self.results


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def credentials(stack: devstack.Stack, enrolment_id: str) -> list[dict[str, Any]]:
    response = HTTP.get(
        f"{stack.url('issuer')}/credentials",
        params={"enrolment_id": enrolment_id},
        headers=staff_headers(stack),
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def decisions(stack: devstack.Stack) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        page = HTTP.get(
            f"{stack.url('assessment')}/admin/decisions",
            headers=staff_headers(stack),
            params={"limit": 500, **({"cursor": cursor} if cursor else {})},
        ).json()
        found.update({d["enrolment_id"]: d for d in page["items"]})
        if not (cursor := page.get("next_cursor")):
            return found


def parked(stack: devstack.Stack, service: str) -> list[dict[str, Any]]:
    response = HTTP.get(f"{stack.url(service)}/admin/parked-events", headers=staff_headers(stack))
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def check_invariants(
    stack: devstack.Stack, results: Iterable[JourneyResult], *, others: Iterable[str] = ()
) -> None:
    """After quiescence: every released pass has exactly one live micro-credential, no
    live credential without a released pass (for every enrolment the case made, `others`
    included), every withdrawn result's credential revoked, no outbox row unsent, nothing
    parked (but replayed), and the reconciler finds nothing to repair."""
    headers = staff_headers(stack)
    wait_for(
        lambda: reconcile(urls(stack), headers, dry_run=True, http=HTTP).consistent,
        120,
        "the outboxes to drain and every released result to match",
    )
    released = decisions(stack)
    enrolments = {r.enrolment_id for r in results} | set(others)
    for enrolment_id in enrolments:
        found = credentials(stack, enrolment_id)
        live = [c for c in found if c["status"] in LIVE and c["kind"] == "micro-credential"]
        decision = released.get(enrolment_id)
        if decision is not None and decision["released_outcome"] == "passed":
            assert len(live) == 1, (enrolment_id, found)
        else:
            assert live == [], (enrolment_id, decision, found)
            if decision is not None and found:  # a pass that was withdrawn
                assert {c["status"] for c in found} == {"revoked"}, (enrolment_id, found)
    for service in devstack.SERVICES:
        # A parked event staff replayed successfully stays listed, with `replayed_at`.
        left = [p for p in parked(stack, service) if p["replayed_at"] is None]
        assert left == [], (service, left)


def sql(stack: devstack.Stack, statement: str, *args: Any) -> Any:
    async def run() -> Any:
        connection = await asyncpg.connect(libpq_url(stack.database_url or ""))
        try:
            return await connection.fetch(statement, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


def script(stack: devstack.Stack, statements: str) -> None:
    """Several SQL statements at once (no parameters, no result)."""

    async def run() -> None:
        connection = await asyncpg.connect(libpq_url(stack.database_url or ""))
        try:
            await connection.execute(statements)
        finally:
            await connection.close()

    asyncio.run(run())
