"""`Idempotency-Key` for POSTs that create: the same key and body get the first response.

The key is scoped to the caller; a reuse with another body is a 422. The reservation and
the response are written in the request's own transaction, under an advisory lock on the
key, so two concurrent retries cannot both create.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.problems import Problem


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class IdempotencyKeys:
    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "idempotency_key",
            metadata,
            Column("scope", String, primary_key=True),
            Column("key", String, primary_key=True),
            Column("fingerprint", String, nullable=False),
            Column("status", Integer, nullable=False),
            Column("body", JSONB, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
        )

    async def replay(
        self, conn: AsyncConnection, *, scope: str, key: str, request_fingerprint: str
    ) -> StoredResponse | None:
        """The first response for this key, or None; locks the key until the transaction ends."""
        if not 1 <= len(key) <= 255:
            raise Problem(
                400, "invalid-idempotency-key", "Idempotency-Key must be 1-255 characters."
            )
        await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"{scope}|{key}"))))
        t = self.table
        row = (
            await conn.execute(
                select(t.c.fingerprint, t.c.status, t.c.body).where(
                    t.c.scope == scope, t.c.key == key
                )
            )
        ).first()
        if row is None:
            return None
        if row.fingerprint != request_fingerprint:
            raise Problem(
                422,
                "idempotency-key-reused",
                "This Idempotency-Key was already used with a different request body.",
            )
        return StoredResponse(row.status, row.body)

    async def remember(
        self,
        conn: AsyncConnection,
        *,
        scope: str,
        key: str,
        request_fingerprint: str,
        response: StoredResponse,
        now: datetime,
    ) -> None:
        await conn.execute(
            self.table.insert().values(
                scope=scope,
                key=key,
                fingerprint=request_fingerprint,
                status=response.status,
                body=response.body,
                created_at=now,
            )
        )

    async def once(
        self,
        conn: AsyncConnection,
        *,
        scope: str,
        key: str | None,
        body: Any,
        create: Callable[[], Awaitable[StoredResponse]],
        now: datetime,
    ) -> StoredResponse:
        """Run `create` once per key and body; a retry gets the first response back."""
        if key is None:
            return await create()
        request_fingerprint = fingerprint(body)
        earlier = await self.replay(
            conn, scope=scope, key=key, request_fingerprint=request_fingerprint
        )
        if earlier is not None:
            return earlier
        response = await create()
        await self.remember(
            conn,
            scope=scope,
            key=key,
            request_fingerprint=request_fingerprint,
            response=response,
            now=now,
        )
        return response
