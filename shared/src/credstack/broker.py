"""The embedded broker: Tansu, keeping its log in memory (the default) or, with
`CREDSTACK_BROKER_STORAGE=s3`, in an S3-compatible object store on disk (alocals3, from the
workspace's dev dependencies).

In memory, a broker crash loses the log; the outboxes' retention window re-publishes it.
In the object store, Tansu answers a produce only once the batch is stored, and a kill -9
of Tansu and of the store loses no acknowledged event; but alocals3 0.3.0 pages its
listings so that one object in every 1,000 is skipped, and Tansu lists a partition's
batches on every fetch: past 1,000 batches in a partition, acknowledged events go unseen
by consumers, silently. Hence not the default (docs/operations.md, docs/performance.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from credstack import engines

BUCKET = "tansu"
STORAGE_SETTING = "CREDSTACK_BROKER_STORAGE"


class BrokerStorage(StrEnum):
    MEMORY = "memory"
    S3 = "s3"


def storage_from_env() -> BrokerStorage:
    """The storage `CREDSTACK_BROKER_STORAGE` names: `memory` (the default) or `s3`."""
    value = os.environ.get(STORAGE_SETTING, BrokerStorage.MEMORY).strip().lower()
    try:
        return BrokerStorage(value)
    except ValueError:
        raise RuntimeError(f"{STORAGE_SETTING} is memory or s3, not {value!r}") from None


@dataclass
class EmbeddedBroker:
    """Tansu on 127.0.0.1:`port` and, with S3 storage, its object store, kept in `data_dir`."""

    port: int
    data_dir: Path
    log_dir: Path
    storage: BrokerStorage = field(default_factory=storage_from_env)
    object_store_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    object_store: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the object store (if used) and Tansu; the log stored before is kept."""
        if self.storage is BrokerStorage.MEMORY:
            self.process = engines.start_broker(self.port, self.log_dir / "broker.log")
            return
        if not self.object_store_port:
            self.object_store_port = engines.free_port()
        self.object_store = engines.start_object_store(
            self.object_store_port, self.data_dir, self.log_dir / "broker-store.log"
        )
        engines.ensure_bucket(self.object_store_port, BUCKET)
        self.process = engines.start_broker(
            self.port,
            self.log_dir / "broker.log",
            f"s3://{BUCKET}/",
            {
                "AWS_ENDPOINT": f"http://127.0.0.1:{self.object_store_port}/s3",
                "AWS_ALLOW_HTTP": "true",
                "AWS_REGION": "auto",
                # alocals3 checks no signature; Tansu's S3 client signs with these anyway.
                "AWS_ACCESS_KEY_ID": "credstack",
                "AWS_SECRET_ACCESS_KEY": "credstack",
            },
        )

    def kill(self) -> None:
        """Kill Tansu and its object store without warning (SIGKILL), as a crash would."""
        for process in (self.process, self.object_store):
            if process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def restart_after_crash(self) -> None:
        """kill -9 of Tansu and its object store, then start both again on the same data."""
        self.kill()
        self.start()

    def stop(self) -> None:
        """Stop Tansu, then its object store (SIGTERM; SIGKILL after 10 s)."""
        for process in (self.process, self.object_store):
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
