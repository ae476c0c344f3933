"""This process's copy of its status lists: read once per number, kept a bounded time,
forgotten when this process changes a status, never remembering a list that is missing."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from issuer import repository
from issuer.api import status_cache
from issuer.api.status_cache import StatusListCache


class FakeEngine:
    """Just enough of an AsyncEngine for the cache: `execution_options().connect()`."""

    def execution_options(self, **_: Any) -> FakeEngine:
        return self

    @asynccontextmanager
    async def connect(self) -> Any:
        yield None


@dataclass
class Database:
    lists: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    reads: list[int] = field(default_factory=list)


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Database:
    held = Database()

    async def documents(_: Any, number: int) -> dict[str, dict[str, Any]]:
        held.reads.append(number)
        return dict(held.lists.get(number, {}))

    monkeypatch.setattr(repository, "status_list_documents", documents)
    monkeypatch.setattr(status_cache, "autocommit", lambda engine: engine)
    return held


async def test_a_list_is_read_once_for_both_purposes_until_it_expires(
    database: Database,
) -> None:
    now = [100.0]
    cache = StatusListCache(seconds=2.0, clock=lambda: now[0])
    engine: Any = FakeEngine()
    database.lists[1] = {"revocation": {"v": 1}, "suspension": {"v": 1}}
    assert await cache.document(engine, 1, "revocation") == {"v": 1}
    database.lists[1] = {"revocation": {"v": 2}, "suspension": {"v": 2}}
    assert await cache.document(engine, 1, "suspension") == {"v": 1}  # the same read
    now[0] += 2.0
    assert await cache.document(engine, 1, "suspension") == {"v": 2}  # expired: read again
    assert database.reads == [1, 1]


async def test_forgetting_shows_a_change_at_once(database: Database) -> None:
    cache = StatusListCache(seconds=60.0)
    engine: Any = FakeEngine()
    database.lists[1] = {"revocation": {"v": 1}}
    assert await cache.document(engine, 1, "revocation") == {"v": 1}
    database.lists[1] = {"revocation": {"v": 2}}
    cache.forget()
    assert await cache.document(engine, 1, "revocation") == {"v": 2}


async def test_a_missing_list_is_not_remembered_and_odd_names_are_not_read(
    database: Database,
) -> None:
    cache = StatusListCache(seconds=60.0)
    engine: Any = FakeEngine()
    assert await cache.document(engine, 3, "revocation") is None
    database.lists[3] = {"revocation": {"v": 1}}
    assert await cache.document(engine, 3, "revocation") == {"v": 1}
    assert await cache.document(engine, 3, "other") is None
    assert await cache.document(engine, 2**31, "revocation") is None
    assert database.reads == [3, 3]
