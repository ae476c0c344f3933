"""This process's short-lived copy of its own signed status lists, read by verification.

Every verification reads a credential's status in both lists of its number (revocation
and suspension): three database round trips per request (each with the pool's ping and
rollback) were most of `POST /verify` and `GET /verify/{id}` in a profile. A list is now
read once (both purposes in one query) and kept for `STATUS_LIST_CACHE_SECONDS`.

How promptly a status change shows in this issuer's own verification:

- at once in the process that made it through the API (staff revoke, suspend, reinstate;
  the VC-API status route): the route forgets the copies after its transaction commits;
- within `STATUS_LIST_CACHE_SECONDS` elsewhere: another replica, and a revocation by the
  worker (a withdrawn result arrives as an event).

Other verifiers may keep a list for its `ttl` (`bitstring_status_list.TTL_SECONDS`, 60 s),
which the list says and its `Cache-Control` repeats; this bound is far inside it. A list
that does not exist yet is not remembered (the first credential of a new list verifies at
once). Hand-written: a dict with a time per entry, bounded; no cache library is declared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.db import autocommit
from issuer import repository
from issuer.standards.bitstring_status_list import Purpose

STATUS_LIST_CACHE_SECONDS = 2.0
#: Lists kept at most (each is two signed documents of a few kilobytes).
MAX_LISTS = 256


class StatusListCache:
    def __init__(
        self,
        seconds: float = STATUS_LIST_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._lists: dict[int, tuple[float, dict[str, dict[str, Any]]]] = {}

    async def document(
        self, engine: AsyncEngine, number: int, purpose: str
    ) -> dict[str, Any] | None:
        """The signed list ``number`` of ``purpose``, or None if there is none. The caller
        must not change it: it is shared until it expires."""
        if purpose not in tuple(Purpose) or not 0 <= number < 2**31:  # an int4 column
            return None
        now = self.clock()
        held = self._lists.get(number)
        if held is None or now - held[0] >= self.seconds:
            async with autocommit(engine).connect() as conn:
                documents = await repository.status_list_documents(conn, number)
            if not documents:
                return None
            if len(self._lists) >= MAX_LISTS:
                self._lists.clear()
            held = self._lists[number] = (now, documents)
        return held[1].get(purpose)

    def forget(self) -> None:
        """Drop every copy: this process has just changed a status."""
        self._lists.clear()


async def status_list_cache(request: Request) -> StatusListCache:
    cache: StatusListCache = request.app.state.status_list_cache
    return cache


StatusListsDep = Annotated[StatusListCache, Depends(status_list_cache)]
