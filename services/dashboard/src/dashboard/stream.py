"""The live, resumable stream: one follower per process tails the log, clients read it.

The follower LISTENs for the log's NOTIFY (polling as the fallback), reads the new rows
once and keeps the newest in memory; each client is served from that buffer, or from
the database when its cursor is older than the buffer. Because positions commit in
order (see `tables`), "every row after my cursor" is complete whichever replica serves
it: a client resumes on any replica, after any restart, with nothing lost or repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.db import libpq_url
from dashboard import repository
from dashboard.repository import Filters, LogEntry

log = structlog.get_logger()

CATCH_UP_PAGE = 500


class LogFollower:
    def __init__(
        self, engine: AsyncEngine, *, database_url: str, poll_seconds: float, buffer_size: int
    ) -> None:
        self.engine = engine
        self.database_url = database_url
        self.poll_seconds = poll_seconds
        self.buffer: deque[LogEntry] = deque()
        self.buffer_size = buffer_size
        self.floor = 0
        """Every row after `floor` up to `head` is in the buffer."""
        self.head = 0
        self.generation = 0
        self.ready = asyncio.Event()
        self._changed = asyncio.Event()
        self._poke = asyncio.Event()

    async def run(self) -> None:
        listener = await asyncpg.connect(libpq_url(self.database_url))
        try:
            await listener.add_listener(repository.NOTIFY_CHANNEL, lambda *_: self._poke.set())
            if not self.ready.is_set():
                async with self.engine.connect() as conn:
                    self.head = self.floor = await repository.head(conn)
                self.ready.set()
            while True:
                await self._catch_up()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), self.poll_seconds)
                self._poke.clear()
        finally:
            with contextlib.suppress(Exception):
                await listener.close()

    async def _catch_up(self) -> None:
        while True:
            async with self.engine.connect() as conn:
                rows = await repository.entries_after(conn, self.head, limit=CATCH_UP_PAGE)
            if not rows:
                return
            self.buffer.extend(rows)
            self.head = rows[-1].position
            while len(self.buffer) > self.buffer_size:
                self.floor = self.buffer.popleft().position
            self.generation += 1
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()
            if len(rows) < CATCH_UP_PAGE:
                return

    async def wait(self, generation: int, seconds: float) -> None:
        """Return when rows newer than `generation` arrived, or after `seconds`."""
        if self.generation != generation:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def read(self, cursor: int, filters: Filters) -> tuple[list[LogEntry], int]:
        """Rows after `cursor` that pass `filters`, and the cursor to read from next."""
        if cursor >= self.floor:
            return [e for e in self.buffer if e.position > cursor and filters.passes(e)], max(
                cursor, self.head
            )
        bound = self.head
        async with self.engine.connect() as conn:
            rows = await repository.entries_after(
                conn, cursor, filters=filters, limit=CATCH_UP_PAGE
            )
        rows = [e for e in rows if e.position <= bound]
        if len(rows) == CATCH_UP_PAGE:
            return rows, rows[-1].position
        return rows, bound


def reset_event(horizon: int) -> dict[str, Any]:
    return {
        "event": "reset",
        "id": str(horizon),
        "data": json.dumps(
            {
                "reason": "The events after your cursor up to this id are no longer kept. "
                "Reload the read models; the stream continues after this id.",
                "resume_after": horizon,
            }
        ),
    }


async def events(
    follower: LogFollower,
    *,
    start_after: int | None,
    filters: Filters,
    wake_seconds: float,
) -> AsyncIterator[dict[str, Any]]:
    """The SSE messages for one client: a CloudEvent per log row, its position as `id`."""
    await follower.ready.wait()
    if start_after is None:
        cursor = follower.head
    else:
        async with follower.engine.connect() as conn:
            horizon = await repository.horizon(conn)
        if start_after < horizon:
            yield reset_event(horizon)
            cursor = horizon
        else:
            cursor = start_after
    while True:
        generation = follower.generation
        entries, cursor = await follower.read(cursor, filters)
        for entry in entries:
            yield {
                "id": str(entry.position),
                "data": json.dumps(entry.cloudevent, separators=(",", ":")),
            }
        if cursor >= follower.head:
            await follower.wait(generation, wake_seconds)
