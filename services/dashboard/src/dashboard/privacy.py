"""A learner's privacy rights in the dashboard: what its log and read models hold on them,
and erasure.

The log and the read models name learners by id only; events older producers published
(EnrolmentConfirmed and WaitlistSeatOffered v1) may still carry a name and an email in the
stored CloudEvent and its summary. `LearnerDataErased` removes those from the learner's
events (the event itself is logged like any other); the log keeps the rest under the
learner's id until its retention (`DASHBOARD_LOG_RETENTION_DAYS`) removes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.enrolment import LearnerDataErased
from credstack.contracts.envelope import Received
from credstack.privacy import LearnerData, scrubbed
from dashboard import consumers
from dashboard.tables import declaration_view, enrolment_view, event_log

PERSONAL_FIELDS = frozenset({"learner_name", "email"})
"""Members of an event's data that name or reach a learner (in events of older producers)."""


class LoggedEvent(BaseModel):
    position: int
    type: str
    time: datetime
    summary: str
    cloudevent: dict[str, Any]


class EnrolmentView(BaseModel):
    enrolment_id: UUID
    offering_id: UUID | None
    requested_at: datetime | None
    confirmed_at: datetime | None
    passed_at: datetime | None
    failed_at: datetime | None
    credential_id: UUID | None
    credential_status: str | None
    ended_as: str | None
    ended_at: datetime | None


class Declaration(BaseModel):
    version: int
    accepted_at: datetime


class DashboardData(LearnerData):
    events: list[LoggedEvent]
    enrolments: list[EnrolmentView]
    declaration: Declaration | None


def _learners_events(learner_id: UUID) -> Any:
    """The log's rows about the learner: by their id, or by one of their enrolments."""
    enrolments = select(enrolment_view.c.enrolment_id).where(
        enrolment_view.c.learner_id == learner_id
    )
    return or_(event_log.c.learner_id == learner_id, event_log.c.enrolment_id.in_(enrolments))


async def learner_data(conn: AsyncConnection, learner_id: UUID, *, at: datetime) -> DashboardData:
    events = await conn.execute(
        select(event_log).where(_learners_events(learner_id)).order_by(event_log.c.position)
    )
    views = await conn.execute(
        select(enrolment_view)
        .where(enrolment_view.c.learner_id == learner_id)
        .order_by(enrolment_view.c.requested_at)
    )
    declared = (
        await conn.execute(
            select(declaration_view).where(declaration_view.c.learner_id == learner_id)
        )
    ).first()
    return DashboardData(
        service="dashboard",
        learner_id=learner_id,
        generated_at=at,
        events=[
            LoggedEvent(
                position=e.position,
                type=e.type,
                time=e.time,
                summary=e.summary,
                cloudevent=e.cloudevent,
            )
            for e in events
        ],
        enrolments=[
            EnrolmentView(
                enrolment_id=v.enrolment_id,
                offering_id=v.offering_id,
                requested_at=v.requested_at,
                confirmed_at=v.confirmed_at,
                passed_at=v.passed_at,
                failed_at=v.failed_at,
                credential_id=v.credential_id,
                credential_status=v.credential_status,
                ended_as=v.ended_as,
                ended_at=v.ended_at,
            )
            for v in views
        ],
        declaration=None
        if declared is None
        else Declaration(version=declared.version, accepted_at=declared.accepted_at),
    )


def _without_name(summary: str, data: dict[str, Any]) -> str:
    name = data.get("learner_name")
    return summary.replace(name, "A learner") if isinstance(name, str) and name else summary


async def learner_data_erased(
    conn: AsyncConnection, event: LearnerDataErased, received: Received
) -> None:
    """Log the event, then remove names and emails from the learner's logged events.
    Applying it again finds nothing left to remove."""
    await consumers.record(conn, event, received)
    rows = await conn.execute(
        select(event_log.c.position, event_log.c.summary, event_log.c.cloudevent).where(
            _learners_events(event.learner_id)
        )
    )
    for row in rows.all():
        data = row.cloudevent.get("data") or {}
        if not PERSONAL_FIELDS & {k for k, v in data.items() if v is not None}:
            continue
        summary = _without_name(row.summary, data)
        cloudevent = {**row.cloudevent, "data": scrubbed(data, PERSONAL_FIELDS)}
        cloudevent["summary"] = summary
        await conn.execute(
            update(event_log)
            .where(event_log.c.position == row.position)
            .values(summary=summary, cloudevent=cloudevent)
        )
