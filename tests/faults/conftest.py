"""A whole stack of its own for the fault cases: its own database and its own embedded
broker (which the cases kill), with a short broker check and parked-retry schedule."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from credstack import devauth, devstack, engines
from credstack.demo import Journey


@pytest.fixture(scope="module")
def fault_stack(
    database_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[devstack.Stack]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("the fault cases kill the embedded broker; an external one is named")
    name = f"credstack_faults_{uuid4().hex[:12]}"
    url = engines.ensure_database(database_server, name)
    for service in devstack.SERVICES:  # the services inherit the environment
        os.environ[f"{service.upper()}_BROKER_CHECK_SECONDS"] = "1"
    stack = devstack.Stack(
        data_dir=tmp_path_factory.mktemp("fault-stack"),
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
        engines.drop_database(database_server, name)


def journey(stack: devstack.Stack) -> Journey:
    return Journey(
        urls={service: stack.url(service) for service in devstack.SERVICES},
        signing_key=devauth.signing_key(Path(stack.data_dir)),
        timeout=120,
    )
