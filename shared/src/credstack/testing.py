"""Pytest fixtures on the real engines: PostgreSQL and a Kafka-protocol broker.

`DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` name existing servers; otherwise the
embedded ones are started (PostgreSQL kept in `.data/test-postgres`, Tansu on a free
port). Each test session gets its own fresh database, dropped at the end.
Registered as a plugin by the repository's root `conftest.py`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from joserfc.jwk import ECKey
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack import devauth, engines, migrations
from credstack.contracts.envelope import Event, Received
from credstack.outbox import Outbox

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def database_server() -> str:
    if url := os.environ.get("DATABASE_URL"):
        return url
    return engines.embedded_postgres(REPO / ".data" / "test-postgres")


@pytest.fixture(scope="session")
def database_url(database_server: str) -> Iterator[str]:
    name = f"credstack_test_{uuid4().hex[:12]}"
    url = engines.ensure_database(database_server, name)
    yield url

    engines.drop_database(database_server, name)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    port = engines.free_port()
    broker = engines.start_broker(port, tmp_path_factory.mktemp("broker") / "broker.log")
    yield f"127.0.0.1:{port}"
    broker.terminate()
    try:
        broker.wait(10)
    except subprocess.TimeoutExpired:
        broker.kill()


@pytest.fixture(scope="session")
def kafka_idempotence() -> bool:
    return bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")) and os.environ.get(
        "KAFKA_IDEMPOTENCE", "true"
    ).lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Tokens:
    key: ECKey
    jwks_url: str

    def __call__(self, role: str, subject: str | None = None, **claims: Any) -> dict[str, str]:
        token = devauth.mint(self.key, role=role, subject=subject, **claims)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    key_dir = tmp_path_factory.mktemp("token-issuer")
    key = devauth.signing_key(key_dir)
    return Tokens(key=key, jwks_url=(key_dir / devauth.JWKS_FILE).resolve().as_uri())


_migrated: set[tuple[str, str]] = set()


def migrate_once(database_url: str, package: str) -> None:
    if (database_url, package) not in _migrated:
        migrations.upgrade(database_url, package)
        _migrated.add((database_url, package))


async def truncate(engine: AsyncEngine, metadata: MetaData) -> None:
    """Empty every table of a service's schema: each test starts from nothing."""
    names = ", ".join(f'"{metadata.schema}"."{t.name}"' for t in metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@dataclass
class ServiceUnderTest:
    app: FastAPI
    http: httpx.AsyncClient
    engine: AsyncEngine


def service_settings(
    settings_class: type[Any],
    *,
    database_url: str,
    kafka_bootstrap: str,
    tokens: Tokens,
    data_dir: Path,
    **overrides: Any,
) -> Any:
    return settings_class(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_idempotence=False,
        auth_jwks_url=tokens.jwks_url,
        run_worker=False,
        data_dir=data_dir,
        consumer_backoff_seconds=0.01,
        **{"dev_stack": True, **overrides},
    )


async def running_service(
    create_app: Callable[[Any], FastAPI], settings: Any, metadata: MetaData, package: str
) -> AsyncIterator[ServiceUnderTest]:
    """The service's app on a migrated, emptied schema, served in-process over ASGI."""
    await asyncio.to_thread(migrate_once, settings.database_url, package)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30):
        engine: AsyncEngine = app.state.engine
        await truncate(engine, metadata)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as http:
            yield ServiceUnderTest(app=app, http=http, engine=engine)


def received(event: Event, *, event_id: UUID | None = None) -> Received:
    """How a consumer would see `event` after it crossed the broker."""
    return Received(
        id=event_id or uuid4(),
        type=event.type_name(),
        source="/tests",
        subject=event.key(),
        time=datetime.now(UTC),
        traceparent=None,
        event=event,
    )


async def deliver(app: FastAPI, event: Event, *, event_id: UUID | None = None) -> str:
    """Apply `event` through the service's own consumer path (inbox included)."""
    consumer = app.state.consumer
    return str(
        await consumer.apply(received(event, event_id=event_id), consumer.handlers[type(event)])
    )


async def staged_events(engine: AsyncEngine, outbox: Outbox) -> list[dict[str, Any]]:
    """The CloudEvents this service has written to its outbox, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(outbox.table.select().order_by(outbox.table.c.id))
        return [row.payload for row in rows]
