"""Queries of the dashboard's schema: the log (append, read, prune) and the read models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dashboard.projections import EnrolmentChange, OfferingChange, Subjects
from dashboard.tables import (
    declaration_view,
    enrolment_view,
    event_log,
    log_horizon,
    offering_view,
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


async def offering_label(conn: AsyncConnection, offering_id: UUID | None) -> str | None:
    if offering_id is None:
        return None
    row = (
        await conn.execute(
            select(offering_view.c.code, offering_view.c.title).where(
                offering_view.c.offering_id == offering_id
            )
        )
    ).first()
    return f"{row.code} {row.title}".strip() if row else None


async def enrolment_subjects(
    conn: AsyncConnection, enrolment_id: UUID | None
) -> tuple[UUID | None, UUID | None]:
    """The offering and micro-credential an enrolment belongs to, when known."""
    if enrolment_id is None:
        return None, None
    row = (
        await conn.execute(
            select(enrolment_view.c.offering_id, enrolment_view.c.micro_credential_id).where(
                enrolment_view.c.enrolment_id == enrolment_id
            )
        )
    ).first()
    return (row.offering_id, row.micro_credential_id) if row else (None, None)


async def apply_enrolment_change(conn: AsyncConnection, change: EnrolmentChange) -> None:
    e = enrolment_view
    values = {**change.first, **change.latest, **change.decision}
    if change.sequence is not None:
        values["decision_sequence"] = change.sequence
    statement = insert(e).values(enrolment_id=change.enrolment_id, **values)
    updates: dict[str, Any] = {
        name: func.coalesce(e.c[name], statement.excluded[name]) for name in change.first
    }
    updates.update({name: statement.excluded[name] for name in change.latest})
    if change.sequence is not None:
        held = func.coalesce(e.c.decision_sequence, -1)
        not_older = statement.excluded.decision_sequence >= held
        updates.update(
            {
                name: case((not_older, statement.excluded[name]), else_=e.c[name])
                for name in change.decision
            }
        )
        updates["decision_sequence"] = func.greatest(held, statement.excluded.decision_sequence)
    if updates:
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[enrolment_view.c.enrolment_id], set_=updates
            )
        )
    else:
        await conn.execute(statement.on_conflict_do_nothing())


async def record_declaration(
    conn: AsyncConnection, learner_id: UUID, version: int, accepted_at: datetime
) -> None:
    """The learner's first acceptance is kept (the funnel asks "ever accepted?")."""
    await conn.execute(
        insert(declaration_view)
        .values(learner_id=learner_id, version=version, accepted_at=accepted_at)
        .on_conflict_do_nothing()
    )


async def set_credential_status(conn: AsyncConnection, credential_id: UUID, status: str) -> None:
    await conn.execute(
        enrolment_view.update()
        .where(enrolment_view.c.credential_id == credential_id)
        .values(credential_status=status)
    )


async def apply_offering_change(
    conn: AsyncConnection, change: OfferingChange, *, now: datetime
) -> None:
    values = {**change.values, "updated_at": now}
    statement = insert(offering_view).values(offering_id=change.offering_id, **values)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=[offering_view.c.offering_id], set_=values)
    )


# Read models for the pages.

FUNNEL_STAGES = (
    "interested",
    "enrolled",
    "paid",
    "declaration_accepted",
    "graded",
    "passed",
    "credential_issued",
    "attendance_certificates",
)


@dataclass(frozen=True)
class Funnel:
    offering_id: UUID
    code: str
    title: str
    starts_on: str | None
    status: str
    counts: dict[str, int]
    daily: list[dict[str, Any]] = field(default_factory=list)


async def funnels(conn: AsyncConnection, *, days: int, now: datetime) -> list[Funnel]:
    e = enrolment_view
    counted = (
        select(
            e.c.offering_id,
            func.count().filter(e.c.requested_at.is_not(None)).label("enrolled"),
            func.count().filter(e.c.confirmed_at.is_not(None)).label("paid"),
            func.count()
            .filter(declaration_view.c.learner_id.is_not(None))
            .label("declaration_accepted"),
            func.count().filter(e.c.graded_at.is_not(None)).label("graded"),
            func.count().filter(e.c.passed_at.is_not(None)).label("passed"),
            func.count().filter(e.c.credential_issued_at.is_not(None)).label("credential_issued"),
            func.count()
            .filter(e.c.certificate_issued_at.is_not(None))
            .label("attendance_certificates"),
        )
        .select_from(e.outerjoin(declaration_view, declaration_view.c.learner_id == e.c.learner_id))
        .group_by(e.c.offering_id)
        .subquery()
    )
    o = offering_view
    query = (
        select(o, counted)
        .select_from(o.outerjoin(counted, counted.c.offering_id == o.c.offering_id))
        .order_by(o.c.starts_on.desc().nulls_last(), o.c.code)
    )
    rows = (await conn.execute(query)).mappings().all()
    since = (now - timedelta(days=days - 1)).date()
    daily = await _daily(conn, since=since)
    result = []
    for row in rows:
        counts = {
            stage: int(row.get(stage) or 0) for stage in FUNNEL_STAGES if stage != "interested"
        }
        counts = {"interested": int(row["interested"] or 0), **counts}
        offering_id = row[o.c.offering_id.name]
        result.append(
            Funnel(
                offering_id=offering_id,
                code=row["code"],
                title=row["title"],
                starts_on=row["starts_on"].isoformat() if row["starts_on"] else None,
                status=row["status"],
                counts=counts,
                daily=[
                    {
                        "day": (since + timedelta(days=i)).isoformat(),
                        **daily.get((offering_id, since + timedelta(days=i)), {}),
                    }
                    for i in range(days)
                ],
            )
        )
    return result


async def _daily(conn: AsyncConnection, *, since: Any) -> dict[tuple[UUID, Any], dict[str, int]]:
    """Per offering and day: enrolments paid, passes and credentials issued."""
    e = enrolment_view
    found: dict[tuple[UUID, Any], dict[str, int]] = {}
    for name, column in (
        ("paid", e.c.confirmed_at),
        ("passed", e.c.passed_at),
        ("issued", e.c.credential_issued_at),
    ):
        day = func.date(func.timezone("UTC", column))
        query = (
            select(e.c.offering_id, day.label("day"), func.count().label("n"))
            .where(column.is_not(None), day >= since, e.c.offering_id.is_not(None))
            .group_by(e.c.offering_id, day)
        )
        for row in await conn.execute(query):
            found.setdefault((row.offering_id, row.day), {})[name] = int(row.n)
    return found


@dataclass(frozen=True)
class Latency:
    count: int
    p50_seconds: float | None
    p95_seconds: float | None


async def issuance_latency(conn: AsyncConnection, *, since: datetime) -> Latency:
    e = enrolment_view
    seconds = func.extract("epoch", e.c.credential_issued_at - e.c.graded_at)
    query = select(
        func.count(),
        func.percentile_cont(0.5).within_group(seconds),
        func.percentile_cont(0.95).within_group(seconds),
    ).where(e.c.graded_at.is_not(None), e.c.credential_issued_at >= since)
    count, p50, p95 = (await conn.execute(query)).one()
    return Latency(int(count), _clamp(p50), _clamp(p95))


def _clamp(value: Any) -> float | None:
    return None if value is None else max(0.0, float(value))


@dataclass(frozen=True)
class Waiting:
    kind: str
    enrolment_id: UUID
    offering_id: UUID | None
    learner_id: UUID | None
    since: datetime | None
    credential_id: UUID | None = None


async def waiting_enrolments(
    conn: AsyncConnection, *, now: datetime, overdue_after: timedelta, limit: int = 100
) -> list[Waiting]:
    """Enrolments waiting for a payment, a seat offer about to lapse, passes with no credential."""
    e = enrolment_view
    open_ = e.c.ended_as.is_(None)
    kind = case(
        (
            and_(e.c.passed_at.is_not(None), e.c.credential_issued_at.is_(None)),
            literal("credential-overdue"),
        ),
        (
            and_(e.c.seat_offer_expires_at.is_not(None), e.c.confirmed_at.is_(None)),
            literal("seat-offer-lapsing"),
        ),
        (
            and_(e.c.payment_failed_at.is_not(None), e.c.confirmed_at.is_(None)),
            literal("payment-failed"),
        ),
        else_=literal("awaiting-payment"),
    )
    since = case(
        (e.c.passed_at.is_not(None), e.c.passed_at),
        (e.c.seat_offer_expires_at.is_not(None), e.c.seat_offer_expires_at),
        (e.c.payment_failed_at.is_not(None), e.c.payment_failed_at),
        else_=e.c.requested_at,
    )
    query = (
        select(
            e.c.enrolment_id,
            e.c.offering_id,
            e.c.learner_id,
            e.c.credential_id,
            kind.label("kind"),
            since.label("since"),
        )
        .where(
            open_,
            (
                and_(
                    e.c.passed_at.is_not(None),
                    e.c.credential_issued_at.is_(None),
                    e.c.passed_at < now - overdue_after,
                )
                | and_(e.c.confirmed_at.is_(None), e.c.requested_at.is_not(None))
                | and_(e.c.confirmed_at.is_(None), e.c.seat_offer_expires_at > now)
            ),
        )
        .order_by(since)
        .limit(limit)
    )
    return [
        Waiting(
            kind=row.kind,
            enrolment_id=row.enrolment_id,
            offering_id=row.offering_id,
            learner_id=row.learner_id,
            since=row.since,
            credential_id=row.credential_id,
        )
        for row in await conn.execute(query)
    ]


async def recent_credentials(conn: AsyncConnection, *, limit: int = 20) -> Sequence[Any]:
    e = enrolment_view
    query = (
        select(
            e.c.credential_id,
            e.c.enrolment_id,
            e.c.offering_id,
            e.c.credential_status,
            e.c.credential_issued_at,
        )
        .where(e.c.credential_id.is_not(None))
        .order_by(e.c.credential_issued_at.desc())
        .limit(limit)
    )
    return (await conn.execute(query)).all()
