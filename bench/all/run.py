"""Every benchmark in one run, each figure beside a baseline measured in the same run.

    ./dev bench all            # full sizes
    ./dev bench all --quick    # small sizes, a couple of minutes

What runs (one machine; the load generator shares the cores with the services):

- **signing**: ``bench/issue`` (credential signing vs one pyld canonicalization + Ed25519,
  the process pool, verification in process);
- **HTTP fixed cost**: ``/healthz`` of the issuer (a real service on the embedded
  PostgreSQL and broker, all its middleware) vs a bare FastAPI endpoint, both with ``wrk``
  (installed with apt-get when missing and running as root; skipped with the reason
  otherwise) at the same concurrency;
- **verification**: ``POST /verify`` of a signed OB 3.0 credential through the issuer, and
  ``GET /verify/{id}`` (its public verification page: the stored credential, its status in
  the signed status lists, the HTML), with ``wrk`` (the same credential again and again:
  what a relying party re-checking does), beside ``/healthz`` of the same process; the
  credential is stored through the issuer's own repository, with status list 1 opened and
  signed as issuing does, so the status check reads real lists;
- **memory**: RSS of the issuer idle and after the load above;
- **pipeline**: ``bench/pipeline`` (passing grades through the LMS API at an open-loop
  rate → credentials, latency percentiles, every credential verified, none duplicated,
  RSS of the assessment service and issuer idle and under load; baseline: one process
  building, signing and storing flat out);
- **bulk**: ``bench/pipeline --rate 0 --batch 25`` (a cohort's passes all at once, as an
  LRS sends them: 25 xAPI statements per request; ``--bulk N``, 10,000 by default, 300
  with ``--quick``);
- **catalogue search** and **grade intake**: ``bench/catalogue_search`` and
  ``bench/grade_intake`` (smaller sizes with ``--quick``);
- **enrolment**: ``bench/enrolment`` (learners enrol, pay at the local checkout and are
  confirmed, concurrency 16, beside ``/healthz`` ÷ the flow's requests; 150 learners, 60
  with ``--quick``).

Benchmarks print figures; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credstack import engines, migrations
from credstack.db import create_engine
from issuer import repository
from issuer.domain import Credential, Kind, Status
from issuer.identity import Issuer
from issuer.keys import IssuerKeys, Signing
from issuer.standards.jsonld import OfflineDocumentLoader
from issuer.standards.multikey import secret_key_multibase
from issuer.standards.openbadges3 import (
    Issuance,
    IssuerProfile,
    Pass,
    Recipient,
    new_salt,
    open_badge_credential,
)
from issuer.usecases import status_lists

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()

@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
"""

POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "r")
wrk.body = f:read("*a")
f:close()
"""

SNAPSHOT = {
    "micro_credential_id": str(uuid4()),
    "version": 1,
    "code": "MC-BENCH-1",
    "title": "Data Storytelling for Leaders",
    "description": "Assessed micro-credential in communicating data.",
    "learning_outcomes": [{"id": "LO1", "description": "Frame a decision as a data question"}],
    "pass_mark": "70",
    "credit_points": "3.125",
    "notional_hours": "65",
    "cpd_hours": "65",
    "language": "en",
    "expiry_months": None,
}


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def row(label: str, value: float, unit: str, baseline: float | None = None, note: str = "") -> None:
    ratio = f"  ({value / baseline:.2f}x of baseline)" if baseline else ""
    print(f"{label:<52} {value:>10.1f} {unit}{ratio}{'  ' + note if note else ''}", flush=True)


def ensure_wrk() -> str | None:
    """The path of wrk, installing Debian's package if possible; None says why not."""
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("wrk is missing and cannot be installed here (not root or no apt-get): skipped")
        return None
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk")


#: ``BENCH_PROFILE=<directory>``: each wrk run against the issuer is also recorded with
#: py-spy (raw collapsed stacks, ``<directory>/<n>.txt``, named in ``runs.log``), for the
#: notes on what bounds it.
PROFILE = os.environ.get("BENCH_PROFILE")


class Run(NamedTuple):
    rate: float
    p50: float
    p99: float
    cpu_ms: float
    """CPU time (user + system) the server process spent per request answered: the fixed
    cost itself, less sensitive than the rate to what else the box is running."""

    def note(self) -> str:
        return f"p50 {self.p50:.1f} ms, p99 {self.p99:.1f} ms, CPU {self.cpu_ms:.2f} ms/request"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spy(pid: int, url: str, seconds: int) -> subprocess.Popen[bytes] | None:
    if not PROFILE:
        return None
    directory = Path(PROFILE)
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{len(list(directory.glob('*.txt')))}.txt"
    with (directory / "runs.log").open("a") as runs:
        runs.write(f"{out.name} {url}\n")
    command = ["py-spy", "record", "--format", "raw", "-r", "200", "-d", str(seconds)]
    return subprocess.Popen(
        [*command, "-p", str(pid), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wrk(
    tool: str,
    url: str,
    *,
    pid: int,
    seconds: int,
    connections: int,
    script: Path | None = None,
    profile: bool = True,
) -> Run:
    """One wrk run against the server process ``pid``; non-2xx answers are an error."""
    command = [tool, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    spy = _spy(pid, url, seconds) if profile else None
    cpu = cpu_seconds(pid)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - cpu
    if spy is not None:
        spy.wait(seconds + 30)
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw error answers from {url}:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    answered = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]

    def millis(share: str) -> float:
        value, unit = re.search(rf"\s{share}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return Run(rate, millis("50"), millis("99"), 1000 * cpu / max(answered, 1))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve(command: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*command, "--port", str(port), "--host", "127.0.0.1", "--no-access-log"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )
    engines.wait_for_port(port, timeout=90, process=process)
    return process


async def stored_credential(
    database_url: str, key: Ed25519PrivateKey, did: str, base_url: str
) -> tuple[UUID, dict[str, Any]]:
    """One signed OB 3.0 credential stored as the issuer stores it: a place in status list 1
    (opened and signed for both purposes, as the first issue does), the credential row."""
    now = datetime.now(UTC)
    profile = IssuerProfile(did=did, name="Bench University", url="https://example.edu")
    issuer = Issuer(profile, base_url, Signing(IssuerKeys(did, (key,)), OfflineDocumentLoader()))
    credential_id, learner_id = uuid4(), uuid4()
    engine = create_engine(database_url, "issuer")
    try:
        async with engine.begin() as conn:
            issuance = Issuance(
                credential_id=credential_id,
                issuer=profile,
                recipient=Recipient("Ada Lovelace", "ada@example.org"),
                base_url=base_url,
                issued_at=now,
                salt=new_salt(),
                status=await status_lists.allocate(conn, issuer, credential_id, at=now),
            )
            document = open_badge_credential(issuance, SNAPSHOT, Pass(Decimal("86.5"), [], now))
            signed = issuer.signing.sign(document, at=now)
            await repository.add_credential(
                conn,
                Credential(
                    id=credential_id,
                    kind=Kind.MICRO_CREDENTIAL,
                    learner_id=learner_id,
                    title=str(SNAPSHOT["title"]),
                    document=signed,
                    issued_at=now,
                    status=Status.ACTIVE,
                    recipient_name="Ada Lovelace",
                    recipient_email="ada@example.org",
                    achievement_id=str(signed["credentialSubject"]["achievement"]["id"]),
                ),
            )
    finally:
        await engine.dispose()
    return credential_id, signed


def verification_figures(
    tool: str,
    pid: int,
    database_url: str,
    key: Ed25519PrivateKey,
    public_url: str,
    work: Path,
    seconds: int,
    connections: int,
) -> None:
    """POST /verify and GET /verify/{id} of one stored credential, beside /healthz."""
    did = json.loads(curl(f"{public_url}/.well-known/did.json"))["id"]
    credential_id, signed = asyncio.run(stored_credential(database_url, key, did, public_url))
    body = work / "credential.json"
    body.write_text(json.dumps(signed))
    script = work / "post.lua"
    script.write_text(POST_LUA.replace("{body}", str(body)))
    verified = curl(
        "-H", "Content-Type: application/json", "--data-binary", f"@{body}", f"{public_url}/verify"
    )
    checks = {c["name"]: c["ok"] for c in json.loads(verified)["checks"]}
    print(f"checks of the benchmarked credential: {checks}")
    if not all(checks.values()):
        raise SystemExit("the benchmarked credential does not verify")
    page = f"{public_url}/verify/{credential_id}"
    if 'class="verdict ok"' not in curl(page):
        raise SystemExit(f"the verification page {page} does not say verified")
    heading(f"verification (wrk, {connections} connections, {seconds} s each, one credential)")
    health = wrk(tool, f"{public_url}/healthz", pid=pid, seconds=seconds, connections=connections)
    row("same-run baseline: issuer /healthz", health.rate, "req/s", note=health.note())
    for label, url, lua in (
        ("POST /verify (target >= 500/s per core)", f"{public_url}/verify", script),
        ("GET /verify/{id} (HTML page; target >= 500/s)", page, None),
    ):
        run = wrk(tool, url, pid=pid, seconds=seconds, connections=connections, script=lua)
        row(label, run.rate, "req/s", health.rate, run.note())


def curl(*arguments: str) -> str:
    return subprocess.run(
        ["curl", "-s", *arguments], check=True, capture_output=True, text=True
    ).stdout


def service_figures(quick: bool, work: Path) -> None:
    tool = ensure_wrk()
    seconds, connections = (4, 16) if quick else (10, 16)
    backbone = engines.ScratchBackbone(work, REPO / ".data" / "bench-postgres")
    database_url, kafka = backbone.database_url, backbone.kafka
    processes: list[subprocess.Popen[bytes]] = []
    try:
        migrations.upgrade(database_url, "issuer")
        key = Ed25519PrivateKey.generate()
        ports = {"bare": engines.free_port(), "issuer": engines.free_port()}
        public_url = f"http://127.0.0.1:{ports['issuer']}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_IDEMPOTENCE": "false",
            "AUTH_JWKS_URL": "file:///dev/null",
            "CREDSTACK_DEV_STACK": "true",
            "ISSUER_DATA_DIR": str(work / "data"),
            "ISSUER_PUBLIC_URL": public_url,
            # The load generator is one address: without this, the per-client limits
            # (120/minute on verification) answer 429 after the first seconds.
            "ISSUER_RATE_LIMIT_CLIENTS": '{"ip:127.0.0.1": "off"}',
            "ISSUER_SIGNING_KEYS": json.dumps([secret_key_multibase(key)]),
        }
        (work / "bare.py").write_text(BARE_APP)
        uvicorn = [PYTHON, "-m", "uvicorn", "--log-level", "warning"]
        processes.append(serve([*uvicorn, "bare:app"], ports["bare"], env, work / "bare.log"))
        issuer = serve(
            [*uvicorn, "--factory", "issuer.main:create_app"],
            ports["issuer"],
            env,
            work / "issuer.log",
        )
        processes.append(issuer)
        time.sleep(2)
        idle = rss_mb(issuer.pid)
        if tool is None:
            return
        heading(f"HTTP fixed cost (wrk, {connections} connections, {seconds} s each)")
        bare = wrk(
            tool,
            f"http://127.0.0.1:{ports['bare']}/healthz",
            pid=processes[0].pid,
            seconds=seconds,
            connections=connections,
            profile=False,
        )
        row("baseline: bare FastAPI /healthz", bare.rate, "req/s", note=bare.note())
        health = wrk(
            tool, f"{public_url}/healthz", pid=issuer.pid, seconds=seconds, connections=connections
        )
        row("issuer /healthz (all middleware)", health.rate, "req/s", bare.rate, health.note())
        print(f"{'bare / issuer, req/s (target <= 1.5)':<52} {bare.rate / health.rate:>10.2f} x")
        print(f"{'issuer / bare, CPU per request':<52} {health.cpu_ms / bare.cpu_ms:>10.2f} x")

        verification_figures(
            tool, issuer.pid, database_url, key, public_url, work, seconds, connections
        )

        heading("memory (RSS)")
        row("issuer idle", idle, "MB")
        row("issuer after the load above", rss_mb(issuer.pid), "MB", idle)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        backbone.close()


def run_bench(name: str, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [PYTHON, str(REPO / "bench" / name / "run.py"), *args],
        check=False,
        env={**os.environ, **(env or {})},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--bulk", type=int, default=None, help="bulk cohort size")
    parser.add_argument("--rate", type=float, default=None, help="pipeline grades/s")
    parser.add_argument(
        "--only",
        nargs="*",
        default=["signing", "service", "pipeline", "bulk", "search", "intake", "enrolment"],
        help="which parts (signing service pipeline bulk search intake enrolment)",
    )
    arguments = parser.parse_args()
    quick, only = arguments.quick, set(arguments.only)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    if "signing" in only:
        heading("signing (bench/issue)")
        run_bench("issue", "--seconds", "3" if quick else "8")
    if "service" in only:
        work = Path(tempfile.mkdtemp(prefix="credstack-bench-all-"))
        service_figures(quick, work)
    if "pipeline" in only:
        rate = arguments.rate or (10.0 if quick else 50.0)
        heading(f"pipeline (bench/pipeline, open loop at {rate:g} grades/s)")
        n = str(int(rate * (10 if quick else 30)))
        run_bench("pipeline", "--n", n, "--rate", str(rate))
    if "bulk" in only:
        bulk = arguments.bulk or (300 if quick else 10_000)
        heading(f"bulk (bench/pipeline --rate 0 --batch 25, {bulk} passes at once, by xAPI)")
        run_bench("pipeline", "--n", str(bulk), "--rate", "0", "--batch", "25", "--timeout", "3600")
    if "search" in only:
        heading("catalogue search (bench/catalogue_search)")
        sizes = {"ITEMS": "2000", "REQUESTS": "300", "SECONDS": "5"} if quick else {}
        run_bench("catalogue_search", env=sizes)
    if "intake" in only:
        heading("grade intake (bench/grade_intake)")
        run_bench("grade_intake", env={"GRADES": "300"} if quick else {})
    if "enrolment" in only:
        heading("enrolment flow (bench/enrolment)")
        run_bench("enrolment", "--learners", "60" if quick else "150")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
