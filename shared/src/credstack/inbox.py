"""The inbox: one row per consumed event id, written in the handler's transaction.

A redelivered event finds its id already claimed and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, DateTime, MetaData, String, Table
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.envelope import Received


class Inbox:
    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "inbox",
            metadata,
            Column("event_id", PgUUID(as_uuid=True), primary_key=True),
            Column("event_type", String, nullable=False),
            Column("received_at", DateTime(timezone=True), nullable=False),
        )

    async def claim(self, conn: AsyncConnection, received: Received, *, now: datetime) -> bool:
        """True the first time this event id is seen; False for a redelivery."""
        result = await conn.execute(
            insert(self.table)
            .values(event_id=received.id, event_type=received.type, received_at=now)
            .on_conflict_do_nothing()
            .returning(self.table.c.event_id)
        )
        return result.first() is not None

    async def claim_many(
        self, conn: AsyncConnection, events: Sequence[Received], *, now: datetime
    ) -> set[UUID]:
        """Claim several events in one statement; the ids seen for the first time (an id
        repeated within `events` is claimed once)."""
        if not events:
            return set()
        result = await conn.execute(
            insert(self.table)
            .values([{"event_id": r.id, "event_type": r.type, "received_at": now} for r in events])
            .on_conflict_do_nothing()
            .returning(self.table.c.event_id)
        )
        return {row[0] for row in result}
