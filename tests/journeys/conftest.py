import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from credstack import devauth, devstack, engines
from credstack.demo import Journey


@pytest.fixture(scope="module")
def stack_database_url(database_server: str) -> Iterator[str]:
    """A database of its own for each stack: what the in-process service tests left in the
    session's database (another issuer's status lists, say) must not leak into it."""
    name = f"credstack_stack_{uuid4().hex[:12]}"
    yield engines.ensure_database(database_server, name)

    engines.drop_database(database_server, name)


@pytest.fixture(scope="module")
def stack(
    stack_database_url: str,
    kafka_bootstrap: str,
    kafka_idempotence: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[devstack.Stack]:
    """The whole platform as separate processes on free ports, on the test engines, over
    https with the dev CA (`./dev up --https`): did:web and status lists resolve over https
    as in production, and this process trusts the CA as a client would."""
    running = devstack.Stack(
        data_dir=tmp_path_factory.mktemp("stack"),
        ports={service: engines.free_port() for service in devstack.SERVICES},
        token_issuer_port=engines.free_port(),
        database_url=stack_database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_idempotence=kafka_idempotence,
        sample_catalogue=False,
        https=True,
    )
    trusted = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(running.trust_file)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        if trusted is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = trusted


def journey_through(stack: devstack.Stack) -> Journey:
    return Journey(
        urls={service: stack.url(service) for service in devstack.SERVICES},
        signing_key=devauth.signing_key(Path(stack.data_dir)),
    )
