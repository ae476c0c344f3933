"""Advisory locks: held until the transaction ends; taken again in it without a round trip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.db import create_engine
from credstack.locks import lock


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, "public")
    yield engine
    await engine.dispose()


async def test_a_lock_is_held_to_the_end_of_its_transaction_and_retaken_for_free(
    engine: AsyncEngine,
) -> None:
    name = uuid4()
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda *args: statements.append(args[2]),
    )
    async with engine.begin() as conn:
        await lock(conn, "test", name)
        await lock(conn, "test", name)  # the same transaction: no second statement
        assert sum("pg_advisory_xact_lock" in s for s in statements) == 1

        async def other() -> None:
            async with engine.begin() as second:
                await second.execute(text("SET LOCAL lock_timeout = '200ms'"))
                await lock(second, "test", name)

        with pytest.raises(Exception, match="lock timeout"):
            await asyncio.create_task(other())
    # a new transaction takes it again, for real
    async with engine.begin() as conn:
        await lock(conn, "test", name)
    assert sum("pg_advisory_xact_lock" in s for s in statements) == 3
