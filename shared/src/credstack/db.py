"""The async engine and session factory of one service, bound to that service's schema."""

from __future__ import annotations

import time
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def metadata_for(schema: str) -> MetaData:
    """Table metadata of one service: every table lives in the service's own schema."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def async_url(database_url: str) -> str:
    """The SQLAlchemy URL for asyncpg, from a plain `postgresql://` URL or an asyncpg one."""
    url = make_url(database_url)
    if url.drivername in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


def libpq_url(database_url: str) -> str:
    """The same server as a plain `postgresql://` URL, for asyncpg.connect and libpq tools."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


#: A pooled connection idle longer than this is pinged before use (see create_engine).
PING_AFTER_IDLE_SECONDS = 2.0


def create_engine(database_url: str, schema: str, **kwargs: object) -> AsyncEngine:
    """The service's engine. A pooled connection is pinged before use only when it has sat
    idle for over PING_AFTER_IDLE_SECONDS: SQLAlchemy's ``pool_pre_ping`` pings on every
    checkout, and with asyncpg its ping is three round trips (BEGIN, ";", ROLLBACK) —
    10 to 15% of a read request's CPU in the catalogue's and issuer's profiles
    (docs/performance.md). A connection in steady use that a server restart breaks fails
    its statement instead; SQLAlchemy then sees the disconnect and drops every pooled
    connection, and the caller's outage handling (503 with Retry-After, consumer retries)
    covers that one failure."""
    engine = create_async_engine(
        async_url(database_url),
        connect_args={"server_settings": {"search_path": f"{schema},public"}},
        **kwargs,
    )
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: AsyncEngine) -> None:
    # SQLAlchemy's documented "pessimistic disconnect handling" with a custom test: a
    # DisconnectionError raised on checkout makes the pool replace the connection.
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            alive = sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as failed:
            raise exc.DisconnectionError(str(failed)) from failed
        if not alive:
            raise exc.DisconnectionError("the pooled connection did not answer its ping")


_AUTOCOMMIT: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` (same pool) without the transaction SQLAlchemy otherwise opens around
    every use: for a read that is one statement, which PostgreSQL runs atomically anyway.
    It saves two of its four round trips (BEGIN and the ROLLBACK on return; the pool's
    ping and the statement remain). Never for writes, nor for reads that must agree."""
    found = _AUTOCOMMIT.get(engine)
    if found is None:
        found = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found
