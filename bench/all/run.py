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
- **verification**: ``POST /verify`` of a signed OB 3.0 credential through the issuer, with
  ``wrk`` (the same credential again and again: what a relying party re-checking does),
  beside ``/healthz`` of the same process;
- **memory**: RSS of the issuer idle and after the load above;
- **pipeline**: ``bench/pipeline`` (passing grades through the LMS API at an open-loop
  rate → credentials, latency percentiles, every credential verified, none duplicated,
  RSS of the assessment service and issuer idle and under load; baseline: one process
  building, signing and storing flat out);
- **bulk**: ``bench/pipeline --rate 0`` (a cohort's passes all at once; ``--bulk N``,
  10,000 by default, 300 with ``--quick``);
- **catalogue search** and **grade intake**: ``bench/catalogue_search`` and
  ``bench/grade_intake`` (smaller sizes with ``--quick``);
- **enrolment**: ``bench/enrolment`` (learners enrol, pay at the local checkout and are
  confirmed, concurrency 16, beside ``/healthz`` ÷ the flow's requests; 150 learners, 60
  with ``--quick``).

Not yet here (see docs/performance.md): ``GET /verify/{id}``.
Benchmarks print figures; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
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
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credstack import engines, migrations
from issuer.keys import IssuerKeys, Signing
from issuer.standards import bitstring_status_list
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


def wrk(
    tool: str, url: str, *, seconds: int, connections: int, script: Path | None = None
) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of one wrk run; non-2xx answers are an error."""
    command = [tool, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw error answers from {url}:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def millis(share: str) -> float:
        value, unit = re.search(rf"\s{share}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rate, millis("50"), millis("99")


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


def signed_credential(key: Ed25519PrivateKey, did: str, base_url: str) -> dict[str, object]:
    now = datetime.now(UTC)
    issuance = Issuance(
        credential_id=uuid4(),
        issuer=IssuerProfile(did=did, name="Bench University", url="https://example.edu"),
        recipient=Recipient("Ada Lovelace", "ada@example.org"),
        base_url=base_url,
        issued_at=now,
        salt=new_salt(),
        status=StatusEntry(bitstring_status_list.list_url(base_url, 1), 7),
    )
    document = open_badge_credential(issuance, SNAPSHOT, Pass(Decimal("86.5"), [], now))
    return Signing(IssuerKeys(did, (key,)), OfflineDocumentLoader()).sign(document, at=now)


def service_figures(quick: bool, work: Path) -> None:
    tool = ensure_wrk()
    seconds, connections = (4, 16) if quick else (10, 16)
    server = os.environ.get("DATABASE_URL") or engines.embedded_postgres(
        REPO / ".data" / "bench-postgres"
    )
    name = f"credstack_bench_{uuid4().hex[:8]}"
    database_url = engines.ensure_database(server, name)
    broker = None
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not kafka:
        port = engines.free_port()
        broker = engines.start_broker(port, work / "broker.log")
        kafka = f"127.0.0.1:{port}"
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
        bare, bare_p50, _bare_p99 = wrk(
            tool, f"http://127.0.0.1:{ports['bare']}/healthz", seconds=seconds, connections=16
        )
        row("baseline: bare FastAPI /healthz", bare, "req/s", note=f"p50 {bare_p50:.1f} ms")
        health, p50, p99 = wrk(tool, f"{public_url}/healthz", seconds=seconds, connections=16)
        row("issuer /healthz (all middleware)", health, "req/s", bare, f"p50 {p50:.1f} ms")
        print(f"{'bare / issuer (target <= 1.5)':<52} {bare / health:>10.2f} x")

        heading("verification (wrk, POST /verify, one signed OB 3.0 credential)")
        did = json.loads(
            subprocess.run(
                ["curl", "-s", f"{public_url}/.well-known/did.json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )["id"]
        body = work / "credential.json"
        body.write_text(json.dumps(signed_credential(key, did, public_url)))
        script = work / "post.lua"
        script.write_text(POST_LUA.replace("{body}", str(body)))
        verified = subprocess.run(
            [
                "curl",
                "-s",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                f"@{body}",
                f"{public_url}/verify",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        checks = {c["name"]: c["ok"] for c in json.loads(verified)["checks"]}
        print(f"checks of the benchmarked credential: {checks}")
        if checks.get("signature") is not True:
            raise SystemExit("the benchmarked credential does not verify")
        rate, p50, p99 = wrk(
            tool, f"{public_url}/verify", seconds=seconds, connections=connections, script=script
        )
        row(
            "POST /verify (target >= 500/s per core)",
            rate,
            "req/s",
            health,
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        )

        heading("memory (RSS)")
        row("issuer idle", idle, "MB")
        row("issuer after the load above", rss_mb(issuer.pid), "MB", idle)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        if broker is not None:
            broker.terminate()
        engines.drop_database(server, name)


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
        heading(f"bulk (bench/pipeline --rate 0, {bulk} passes at once)")
        run_bench("pipeline", "--n", str(bulk), "--rate", "0", "--timeout", "3600")
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
