from collections.abc import Iterator
from pathlib import Path

import pytest

from credstack import devauth, devstack, engines
from credstack.demo import Journey


@pytest.fixture(scope="module")
def stack(
    database_url: str,
    kafka_bootstrap: str,
    kafka_idempotence: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[devstack.Stack]:
    """The whole platform as separate processes on free ports, on the test engines."""
    running = devstack.Stack(
        data_dir=tmp_path_factory.mktemp("stack"),
        ports={service: engines.free_port() for service in devstack.SERVICES},
        token_issuer_port=engines.free_port(),
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_idempotence=kafka_idempotence,
        sample_catalogue=False,
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def journey_through(stack: devstack.Stack) -> Journey:
    return Journey(
        urls={service: stack.url(service) for service in devstack.SERVICES},
        signing_key=devauth.signing_key(Path(stack.data_dir)),
    )
