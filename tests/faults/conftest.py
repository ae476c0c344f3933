"""One whole stack shared by every fault case: its own embedded PostgreSQL (which a case
restarts) and its own embedded broker (which a case kills), with a short broker check."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from credstack import devauth, devstack, engines
from credstack.demo import Journey


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[devstack.Stack]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("DATABASE_URL"):
        pytest.skip("the fault cases kill the embedded broker and restart embedded PostgreSQL")
    data = tmp_path_factory.mktemp("fault-stack")
    # PostgreSQL (run as its own user when the tests run as root) must reach its directory:
    # not under pytest's temporary root, which every pytest session makes private again.
    pgdata = Path(tempfile.mkdtemp(prefix="credstack-faults-pg-"))
    (data / "postgres").symlink_to(pgdata)
    server = engines.embedded_postgres(pgdata)
    url = engines.ensure_database(server, "credstack_faults")
    for service in devstack.SERVICES:  # the services inherit the environment
        os.environ[f"{service.upper()}_BROKER_CHECK_SECONDS"] = "1"
    stack = devstack.Stack(
        data_dir=data,
        ports={service: engines.free_port() for service in devstack.SERVICES},
        token_issuer_port=engines.free_port(),
        broker_port=engines.free_port(),
        database_url=url,
        kafka_bootstrap_servers=None,
        sample_catalogue=False,
        reconcile_seconds=0,
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        for service in devstack.SERVICES:
            os.environ.pop(f"{service.upper()}_BROKER_CHECK_SECONDS", None)
        engines.stop_embedded_postgres(pgdata)
        shutil.rmtree(pgdata, ignore_errors=True)


def journey(stack: devstack.Stack) -> Journey:
    return Journey(
        urls={service: stack.url(service) for service in devstack.SERVICES},
        signing_key=devauth.signing_key(Path(stack.data_dir)),
        timeout=120,
    )
