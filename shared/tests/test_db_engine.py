"""The service engine's connections: a pooled connection that sat idle is pinged, and
replaced when its server end is gone, so the caller never sees the dead one."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack import db


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def test_an_idle_connection_whose_server_end_died_is_replaced_unseen(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.05)
    engine = db.create_engine(database_url, "public", pool_size=1, max_overflow=0)
    killer = db.create_engine(database_url, "public")
    try:
        first = await _backend_pid(engine)
        async with killer.connect() as conn:
            assert await conn.scalar(text(f"SELECT pg_terminate_backend({first})"))
        await asyncio.sleep(0.2)  # idle longer than the threshold: pinged on checkout
        second = await _backend_pid(engine)  # no error: the ping found it dead
        assert second != first
    finally:
        await engine.dispose()
        await killer.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 60.0)
    engine = db.create_engine(database_url, "public", pool_size=1, max_overflow=0)
    pings = 0
    dialect = engine.sync_engine.dialect
    real_ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        nonlocal pings
        pings += 1
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    try:
        for _ in range(5):
            await _backend_pid(engine)
        assert pings == 0
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
        await asyncio.sleep(0.01)
        await _backend_pid(engine)
        assert pings == 1
    finally:
        await engine.dispose()
