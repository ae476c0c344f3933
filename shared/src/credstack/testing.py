"""Pytest fixtures on the real engines: PostgreSQL and a Kafka-protocol broker.

`DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` name existing servers; otherwise the
embedded ones are started (PostgreSQL kept in `.data/test-postgres`, Tansu on a free
port keeping its log as `CREDSTACK_BROKER_STORAGE` says: memory by default, or s3).
Each test session gets its own fresh database, dropped at the end.
Registered as a plugin by the repository's root `conftest.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from credstack import devauth, devstack, engines, migrations, roles
from credstack.audit import AuditEntry, AuditLog
from credstack.broker import EmbeddedBroker
from credstack.contracts.envelope import Event, Received
from credstack.db import async_url, create_engine
from credstack.outbox import Outbox
from credstack.refusals import Reason, Refusal

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
    asyncio.run(roles.ensure_roles(url, devstack.SERVICES))
    yield url

    engines.drop_database(database_server, name)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    folder = tmp_path_factory.mktemp("broker")
    broker = EmbeddedBroker(engines.free_port(), folder / "data", folder)
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


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
    """Migrate `package`'s schema as the owner role (whichever role `database_url` names)."""
    owner_url = roles.url_for(database_url, roles.OWNER)
    if (owner_url, package) not in _migrated:
        migrations.upgrade(owner_url, package)
        _migrated.add((owner_url, package))


async def truncate(database_url: str, metadata: MetaData) -> None:
    """Empty every table of a service's schema as the owner (a service's own role may not
    truncate): each test starts from nothing."""
    names = ", ".join(f'"{metadata.schema}"."{t.name}"' for t in metadata.sorted_tables)
    owner = create_async_engine(async_url(roles.url_for(database_url, roles.OWNER)))
    try:
        async with owner.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await owner.dispose()


@contextlib.asynccontextmanager
async def owner_connection(database_url: str, schema: str) -> AsyncIterator[AsyncConnection]:
    """A connection as the owner role (`credstack_owner`), e.g. to compare the migrated
    schemas with the code: a service's own role may not look into the others'."""
    engine = create_engine(roles.url_for(database_url, roles.OWNER), schema)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


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
    """Settings of a service under test: it connects as its own role (`credstack_<service>`,
    derived from the admin `database_url`), its migrations run as the owner."""
    service = settings_class.model_fields["service_name"].default
    overrides = {
        "database_url": roles.url_for(database_url, roles.role_of(service)),
        "migration_database_url": roles.url_for(database_url, roles.OWNER),
        **overrides,
    }
    return settings_class(
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
    await asyncio.to_thread(migrate_once, settings.owner_database_url, package)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30):
        engine: AsyncEngine = app.state.engine
        await truncate(settings.database_url, metadata)
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


async def audit_entries(engine: AsyncEngine, log: AuditLog) -> list[dict[str, Any]]:
    """The staff actions this service has recorded, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(log.table.select().order_by(log.table.c.id))
        return [dict(row._mapping) for row in rows]


class AuditWentWrong(Refusal):
    """Raised by `fail_after_audit`: the audit entry was written, then the request failed."""

    code = "audit-went-wrong"
    reason = Reason.UNAVAILABLE


def fail_after_audit(monkeypatch: pytest.MonkeyPatch, log: AuditLog) -> list[int]:
    """Make `log.record` insert its entry and then fail, as anything later in the
    transaction might; the ids it inserted (to show an insert happened) are returned."""
    inserted: list[int] = []
    record = log.record

    async def record_then_fail(conn: AsyncConnection, entry: AuditEntry) -> int:
        inserted.append(await record(conn, entry))
        raise AuditWentWrong("failed after the audit entry was written")

    monkeypatch.setattr(log, "record", record_then_fail)
    return inserted
