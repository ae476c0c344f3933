"""The console's figures: enrolment funnels, issuance latency, what waits, recent credentials."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dashboard.tables import (
    declaration_view,
    enrolment_view,
    offering_view,
)

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
    return [Waiting(**row._mapping) for row in await conn.execute(query)]


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
