"""The dashboard's event log: append in position order, read after a position, prune."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dashboard.projections import Subjects
from dashboard.tables import (
    event_log,
    log_horizon,
)

APPEND_LOCK = 0x6C6F6701  # serialises appends: positions commit in order
NOTIFY_CHANNEL = "dashboard_event_log"


@dataclass(frozen=True)
class LogEntry:
    position: int
    type: str
    micro_credential_id: UUID | None
    offering_id: UUID | None
    learner_id: UUID | None
    cloudevent: dict[str, Any]


@dataclass(frozen=True)
class Filters:
    """The stream's filters; an empty one passes every event."""

    types: frozenset[str] = frozenset()
    micro_credential_id: UUID | None = None
    offering_id: UUID | None = None
    learner_id: UUID | None = None

    def passes(self, entry: LogEntry) -> bool:
        return (
            (not self.types or entry.type in self.types)
            and (
                self.micro_credential_id is None
                or entry.micro_credential_id == self.micro_credential_id
            )
            and (self.offering_id is None or entry.offering_id == self.offering_id)
            and (self.learner_id is None or entry.learner_id == self.learner_id)
        )

    def where(self) -> list[Any]:
        clauses: list[Any] = []
        if self.types:
            clauses.append(event_log.c.type.in_(sorted(self.types)))
        for name in ("micro_credential_id", "offering_id", "learner_id"):
            if (value := getattr(self, name)) is not None:
                clauses.append(event_log.c[name] == value)
        return clauses


async def append(
    conn: AsyncConnection,
    *,
    event_id: UUID,
    type: str,
    time: datetime,
    subjects: Subjects,
    summary: str,
    cloudevent: dict[str, Any],
    now: datetime,
) -> int:
    """Add one event at the log's end; NOTIFY followers when the transaction commits."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
    position: int = (
        await conn.execute(
            event_log.insert()
            .values(
                event_id=event_id,
                type=type,
                time=time,
                appended_at=now,
                micro_credential_id=subjects.micro_credential_id,
                offering_id=subjects.offering_id,
                learner_id=subjects.learner_id,
                enrolment_id=subjects.enrolment_id,
                summary=summary,
                cloudevent=cloudevent,
            )
            .returning(event_log.c.position)
        )
    ).scalar_one()
    await conn.execute(
        text("SELECT pg_notify(:channel, :position)"),
        {"channel": NOTIFY_CHANNEL, "position": str(position)},
    )
    return position


def _entry(row: Any) -> LogEntry:
    return LogEntry(
        position=row.position,
        type=row.type,
        micro_credential_id=row.micro_credential_id,
        offering_id=row.offering_id,
        learner_id=row.learner_id,
        cloudevent=row.cloudevent,
    )


_ENTRY_COLUMNS = (
    event_log.c.position,
    event_log.c.type,
    event_log.c.micro_credential_id,
    event_log.c.offering_id,
    event_log.c.learner_id,
    event_log.c.cloudevent,
)


async def entries_after(
    conn: AsyncConnection, position: int, *, filters: Filters = Filters(), limit: int = 500
) -> list[LogEntry]:
    query = (
        select(*_ENTRY_COLUMNS)
        .where(event_log.c.position > position, *filters.where())
        .order_by(event_log.c.position)
        .limit(limit)
    )
    return [_entry(row) for row in await conn.execute(query)]


async def latest_entries(
    conn: AsyncConnection, *, filters: Filters = Filters(), limit: int = 50
) -> list[LogEntry]:
    query = (
        select(*_ENTRY_COLUMNS)
        .where(*filters.where())
        .order_by(event_log.c.position.desc())
        .limit(limit)
    )
    return [_entry(row) for row in await conn.execute(query)][::-1]


async def head(conn: AsyncConnection) -> int:
    return int(
        (await conn.execute(select(func.coalesce(func.max(event_log.c.position), 0)))).scalar_one()
    )


async def horizon(conn: AsyncConnection) -> int:
    """Every position up to this one is gone (retention); 0 when nothing was pruned."""
    value = (
        await conn.execute(select(log_horizon.c.pruned_through).where(log_horizon.c.id == 1))
    ).scalar()
    return int(value or 0)


async def prune(conn: AsyncConnection, *, older_than: datetime, now: datetime) -> int:
    """Remove events appended before `older_than`; record how far the log was cut."""
    cut = (
        await conn.execute(
            select(func.max(event_log.c.position)).where(event_log.c.appended_at < older_than)
        )
    ).scalar()
    if cut is None:
        return 0
    removed = (await conn.execute(event_log.delete().where(event_log.c.position <= cut))).rowcount
    await conn.execute(
        insert(log_horizon)
        .values(id=1, pruned_through=cut, pruned_at=now)
        .on_conflict_do_update(
            index_elements=[log_horizon.c.id],
            set_={
                "pruned_through": func.greatest(log_horizon.c.pruned_through, cut),
                "pruned_at": now,
            },
        )
    )
    return int(removed or 0)
