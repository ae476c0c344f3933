"""The async engine and session factory of one service, bound to that service's schema."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import MetaData
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


def create_engine(database_url: str, schema: str, **kwargs: object) -> AsyncEngine:
    return create_async_engine(
        async_url(database_url),
        connect_args={"server_settings": {"search_path": f"{schema},public"}},
        pool_pre_ping=True,
        **kwargs,
    )


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
