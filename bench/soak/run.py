"""Soak: journeys under random faults for a while, then the invariants.

A whole dev stack of its own (embedded PostgreSQL and broker, in a throwaway directory)
runs WORKERS journeys at a time for the given duration while a fault is injected every
--every seconds, chosen at random: kill -9 of a service (restarted after a second), SIGTERM
of a service (restarted), kill -9 of the broker and its object store (restarted on the log
they kept; with CREDSTACK_BROKER_STORAGE=memory the log is lost and the outboxes must
re-publish), every database connection terminated, PostgreSQL restarted.
Then it waits for quiescence and checks, through the services' APIs: every journey's
released pass has exactly one live credential; no live credential without a released pass;
the reconciler finds nothing (nothing unsent, every result matched); nothing parked.

    ./dev bench soak                    # 10 minutes
    ./dev bench soak --minutes 2 --every 15 --workers 3 --seed 7

Prints journeys completed, journeys that failed (a journey that gave up while the stack
was down is counted, not a violation, if the invariants hold for it afterwards), faults
injected by kind, and invariant violations, which must be zero (exit 1 otherwise); then each
service's resources: RSS idle (after start), at the end and at its peak, and the CPU it used
per journey and on average (cores) over the run. With `--every 0` no fault is injected, so
no service restarts and the figures cover the whole run: what the deployment's requests and
limits come from (docs/deployment.md).

    ./dev bench soak --minutes 3 --every 0 --workers 4    # load only: resources
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from credstack import devauth, devstack, engines
from credstack.db import libpq_url
from credstack.demo import Journey, JourneyResult
from credstack.reconcile import LIVE, reconcile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--every", type=float, default=20.0, help="seconds between faults (0: no faults)"
    )
    parser.add_argument("--workers", type=int, default=3, help="journeys in flight")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    chance = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="credstack-soak-") as tmp:
        data = Path(tmp)
        server = engines.embedded_postgres(data / "postgres")
        for service in devstack.SERVICES:
            os.environ[f"{service.upper()}_BROKER_CHECK_SECONDS"] = "1"
        stack = devstack.Stack(
            data_dir=data / "stack",
            ports={s: engines.free_port() for s in devstack.SERVICES},
            token_issuer_port=engines.free_port(),
            broker_port=engines.free_port(),
            database_url=engines.ensure_database(server, "credstack_soak"),
            sample_catalogue=False,
            reconcile_seconds=0,
        )
        print("starting the stack…", flush=True)
        stack.start()
        try:
            return soak(stack, data / "postgres", args, chance)
        finally:
            stack.stop()


def soak(
    stack: devstack.Stack, pgdata: Path, args: argparse.Namespace, chance: random.Random
) -> int:
    urls = {s: stack.url(s) for s in devstack.SERVICES}
    key = devauth.signing_key(Path(stack.data_dir))
    headers = {"Authorization": f"Bearer {devauth.mint(key, role='staff')}"}
    results: list[JourneyResult] = []
    failures: list[str] = []
    stopping = threading.Event()

    def worker() -> None:
        while not stopping.is_set():
            try:
                results.append(Journey(urls=urls, signing_key=key, timeout=120).run())
            except Exception as error:  # counted; the invariants decide
                failures.append(repr(error)[:200])

    idle = {name: usage(process) for name, process in stack.processes.items()}
    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    faults: Counter[str] = Counter()
    started = time.monotonic()
    end = started + args.minutes * 60
    while time.monotonic() < end:
        time.sleep(min(args.every or end, max(0.0, end - time.monotonic())))
        if time.monotonic() >= end or not args.every:
            break
        kind = inject(stack, pgdata, chance)
        faults[kind] += 1
        print(f"{time.monotonic() - started:6.0f}s  {kind}; {len(results)} journeys", flush=True)
    stopping.set()
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.monotonic() - started
    loaded = {name: usage(process) for name, process in stack.processes.items()}
    stack.supervise_once()  # anything still down comes back

    print("waiting for quiescence…", flush=True)
    deadline = time.monotonic() + 180
    report = reconcile(urls, headers, dry_run=True)
    while not report.consistent and time.monotonic() < deadline:
        time.sleep(2)
        report = reconcile(urls, headers, dry_run=True)
    violations = [f"reconciler: {f.service} {f.subject}: {f.problem}" for f in report.findings]
    violations += check(urls, headers, results)

    print(f"\nsoak: {args.minutes:g} min, {args.workers} journeys in flight")
    print(f"journeys completed:   {len(results)}")
    print(f"journeys given up:    {len(failures)}")
    print(f"faults injected:      {sum(faults.values())} ({dict(faults)})")
    print(f"invariant violations: {len(violations)}")
    for violation in violations:
        print(f"  {violation}")
    print(f"\nresources over {elapsed:.0f} s ({len(results)} journeys):")
    columns = ("RSS idle", "RSS end", "RSS peak", "CPU/journey", "cores")
    print(f"{'service':<11} " + " ".join(f"{c:>11}" for c in columns))
    for name in devstack.SERVICES:
        before, after = idle[name], loaded[name]
        if before is None or after is None or before.pid != after.pid:
            print(f"{name:<11} (restarted during the run: not comparable)")
            continue
        cpu = after.cpu_seconds - before.cpu_seconds
        print(
            f"{name:<11} {before.rss_mb:>8.0f} MB {after.rss_mb:>8.0f} MB {after.peak_mb:>8.0f} MB "
            f"{1000 * cpu / max(1, len(results)):>8.0f} ms {cpu / elapsed:>11.2f}"
        )
    return 1 if violations else 0


@dataclass(frozen=True)
class Usage:
    pid: int
    rss_mb: float
    peak_mb: float
    cpu_seconds: float


def usage(process: devstack.Process) -> Usage | None:
    """RSS now and at its peak (VmHWM), and CPU time used (user + system), from /proc."""
    if process.popen is None or process.popen.poll() is not None:
        return None
    pid = process.popen.pid
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return Usage(
        pid=pid,
        rss_mb=int(status["VmRSS"].split()[0]) / 1024,
        peak_mb=int(status["VmHWM"].split()[0]) / 1024,
        cpu_seconds=(int(fields[11]) + int(fields[12])) / ticks,
    )


def inject(stack: devstack.Stack, pgdata: Path, chance: random.Random) -> str:
    kind = chance.choice(["kill -9", "sigterm", "broker kill -9", "db connections", "pg restart"])
    if kind in ("kill -9", "sigterm"):
        service = chance.choice(devstack.SERVICES)
        process = stack.processes[service]
        if kind == "kill -9":
            process.kill()
        else:
            process.stop(timeout=10)
        time.sleep(1)
        process.start()
        return f"{kind} {service}"
    if kind == "broker kill -9":
        assert stack.broker is not None
        stack.broker.restart_after_crash()  # Tansu and, with S3 storage, its object store
        return f"{kind} ({stack.broker.storage} storage)"
    if kind == "pg restart":
        engines.restart_embedded_postgres(pgdata)
        return kind
    asyncio.run(_terminate_backends(stack.database_url or ""))
    return kind


async def _terminate_backends(database_url: str) -> None:
    admin = await asyncpg.connect(libpq_url(database_url))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()


def check(urls: dict[str, str], headers: dict[str, str], results: list[JourneyResult]) -> list[str]:
    violations = []
    with httpx.Client(timeout=30, headers=headers) as http:
        released = {}
        cursor = None
        while True:
            page = http.get(
                f"{urls['assessment']}/admin/decisions",
                params={"limit": 500, **({"cursor": cursor} if cursor else {})},
            ).json()
            released.update({d["enrolment_id"]: d["released_outcome"] for d in page["items"]})
            if not (cursor := page.get("next_cursor")):
                break
        for result in results:
            found = http.get(
                f"{urls['issuer']}/credentials", params={"enrolment_id": result.enrolment_id}
            ).json()["items"]
            live = [c for c in found if c["status"] in LIVE and c["kind"] == "micro-credential"]
            wanted = 1 if released.get(result.enrolment_id) == "passed" else 0
            if len(live) != wanted:
                violations.append(f"{result.enrolment_id}: {len(live)} live, {wanted} wanted")
        for service, url in urls.items():
            parked = http.get(f"{url}/admin/parked-events").json()["items"]
            violations += [f"{service} parked {p['id']}: {p.get('error')}" for p in parked]
    return violations


if __name__ == "__main__":
    sys.exit(main())
