"""Which LMS activity is the summative assessment, and which evidence which outcomes.

Staff declare, per LMS client and offering, the activity (LTI line item, Caliper
assignable, xAPI object id, Moodle grade item id) whose grade decides the result; every
other grade is kept as formative, shown to staff and never decides. A declaration
replaces the previous one, and the grades already received are classified again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import repository
from assessment.domain import GradeStatus, role
from assessment.registry import LmsClient
from assessment.tables import assessed_activity, grade
from assessment.usecases import NotServed, Unprocessable
from assessment.usecases.results import settle_all


@dataclass(frozen=True)
class Activity:
    activity: str
    summative: bool
    label: str | None = None
    outcome_ids: tuple[str, ...] = ()


async def declared(conn: AsyncConnection, client_id: str, offering_id: UUID) -> list[Activity]:
    rows = await conn.execute(
        select(assessed_activity)
        .where(
            assessed_activity.c.client_id == client_id,
            assessed_activity.c.offering_id == offering_id,
        )
        .order_by(assessed_activity.c.summative.desc(), assessed_activity.c.activity)
    )
    return [Activity(r.activity, r.summative, r.label, tuple(r.outcome_ids)) for r in rows]


async def classify(conn: AsyncConnection, grade_ids: Iterable[int]) -> set[UUID]:
    """Mark each grade summative or formative by its client's declaration for its
    offering; returns the enrolments whose summative grades changed."""
    rows = (
        await conn.execute(
            select(
                grade.c.id,
                grade.c.client_id,
                grade.c.offering_id,
                grade.c.enrolment_id,
                grade.c.source,
                grade.c.activity,
                grade.c.summative,
                grade.c.status,
                grade.c.note,
            ).where(grade.c.id.in_(list(grade_ids)))
        )
    ).all()
    changed: set[UUID] = set()
    for row in rows:
        summative = await repository.declared_summative(conn, row.client_id, row.offering_id)
        formative = role(row.source, row.activity, summative)
        values: dict[str, object] = {"summative": formative is None}
        if row.status == GradeStatus.KEPT and formative is not None:
            values["note"] = formative
        elif row.status == GradeStatus.KEPT and (row.note or "").startswith("formative:"):
            values["note"] = None
        if (formative is None) != row.summative:
            values["announced"] = False
            if row.enrolment_id is not None:
                changed.add(row.enrolment_id)
        await conn.execute(update(grade).where(grade.c.id == row.id).values(**values))
    return changed


async def declare(
    conn: AsyncConnection,
    client: LmsClient,
    offering_id: UUID,
    activities: list[Activity],
    *,
    known_outcomes: frozenset[str] | None,
    by: str,
    now: datetime,
) -> list[Activity]:
    """Replace the client's declaration for the offering and decide again."""
    if not client.serves(offering_id):
        raise NotServed(f"Client {client.id} is not registered for offering {offering_id}.")
    if sum(a.summative for a in activities) > 1:
        raise Unprocessable("At most one activity is the summative assessment.")
    if len({a.activity for a in activities}) != len(activities):
        raise Unprocessable("Each activity is declared once.")
    if known_outcomes is not None:
        unknown = sorted({o for a in activities for o in a.outcome_ids} - known_outcomes)
        if unknown:
            raise Unprocessable(
                "The micro-credential has no learning outcome " + ", ".join(unknown) + "."
            )
    await conn.execute(
        assessed_activity.delete().where(
            assessed_activity.c.client_id == client.id,
            assessed_activity.c.offering_id == offering_id,
        )
    )
    if activities:
        await conn.execute(
            assessed_activity.insert().values(
                [
                    {
                        "client_id": client.id,
                        "offering_id": offering_id,
                        "activity": a.activity,
                        "summative": a.summative,
                        "label": a.label,
                        "outcome_ids": list(a.outcome_ids),
                        "declared_by": by,
                        "declared_at": now,
                    }
                    for a in activities
                ]
            )
        )
    ids = await conn.scalars(
        select(grade.c.id).where(grade.c.client_id == client.id, grade.c.offering_id == offering_id)
    )
    await settle_all(conn, await classify(conn, list(ids)), now=now)
    return await declared(conn, client.id, offering_id)
