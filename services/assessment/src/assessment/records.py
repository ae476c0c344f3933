"""What staff read back: stored grades, moderations, integrity cases, attendance, roster
links and placements, as typed records (SQLAlchemy Core). The use-case queries are in
`repository`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.domain import CaseStatus, GradeStatus, ModerationAction, Outcome
from assessment.tables import (
    attendance,
    grade,
    integrity_case,
    moderation,
    moodle_notification,
    placement,
    roster_link,
)


@dataclass(frozen=True)
class StoredGrade:
    id: int
    client_id: str
    source: str
    status: GradeStatus
    note: str | None
    subjects: list[str]
    offering_id: UUID | None
    enrolment_id: UUID | None
    score: Decimal | None
    final: bool
    graded_at: datetime
    received_at: datetime
    payload: Any
    activity: str | None
    summative: bool


@dataclass(frozen=True)
class ModerationRecord:
    id: int
    action: ModerationAction
    score: Decimal | None
    outcome: Outcome | None
    reason: str
    moderated_by: str
    moderated_at: datetime
    outcome_before: Outcome | None
    outcome_after: Outcome | None


@dataclass(frozen=True)
class IntegrityCase:
    id: UUID
    enrolment_id: UUID
    status: CaseStatus
    reason: str
    opened_by: str
    opened_at: datetime
    finding_note: str | None
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class AttendanceRecord:
    session: int
    enrolment_id: UUID
    attended: bool
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class RosterLink:
    id: int
    client_id: str
    subject: str
    offering_id: UUID
    enrolment_id: UUID
    linked_by: str
    linked_at: datetime
    automatic: bool


@dataclass(frozen=True)
class Placement:
    id: UUID
    learner_id: UUID
    language: str
    level: str
    note: str
    assessed_by: str
    assessed_at: datetime


def _grade(row: Row[Any]) -> StoredGrade:
    return StoredGrade(
        id=row.id,
        client_id=row.client_id,
        source=row.source,
        status=GradeStatus(row.status),
        note=row.note,
        subjects=list(row.subjects),
        offering_id=row.offering_id,
        enrolment_id=row.enrolment_id,
        score=row.score,
        final=row.final,
        graded_at=row.graded_at,
        received_at=row.received_at,
        payload=row.payload,
        activity=row.activity,
        summative=row.summative,
    )


def _outcome(value: str | None) -> Outcome | None:
    return Outcome(value) if value is not None else None


def _moderation(row: Row[Any]) -> ModerationRecord:
    return ModerationRecord(
        id=row.id,
        action=ModerationAction(row.action),
        score=row.score,
        outcome=_outcome(row.outcome),
        reason=row.reason,
        moderated_by=row.moderated_by,
        moderated_at=row.moderated_at,
        outcome_before=_outcome(row.outcome_before),
        outcome_after=_outcome(row.outcome_after),
    )


def _case(row: Row[Any]) -> IntegrityCase:
    return IntegrityCase(**{**_fields(row, IntegrityCase), "status": CaseStatus(row.status)})


def _fields(row: Row[Any], record: type[Any]) -> dict[str, Any]:
    return {name: row._mapping[name] for name in record.__dataclass_fields__}


async def stored_grade(conn: AsyncConnection, grade_id: int) -> StoredGrade | None:
    row = (await conn.execute(select(grade).where(grade.c.id == grade_id))).first()
    return _grade(row) if row is not None else None


async def grades_of(conn: AsyncConnection, enrolment_id: UUID) -> list[StoredGrade]:
    query = select(grade).where(grade.c.enrolment_id == enrolment_id).order_by(grade.c.id)
    return [_grade(row) for row in await conn.execute(query)]


async def quarantined_grades(
    conn: AsyncConnection, *, client_id: str | None, after: int | None, limit: int
) -> list[StoredGrade]:
    """Grades that map to no enrolment, oldest first, after the grade id `after`."""
    query = (
        select(grade)
        .where(grade.c.status == GradeStatus.QUARANTINED)
        .order_by(grade.c.id)
        .limit(limit)
    )
    if client_id is not None:
        query = query.where(grade.c.client_id == client_id)
    if after is not None:
        query = query.where(grade.c.id > after)
    return [_grade(row) for row in await conn.execute(query)]


@dataclass(frozen=True)
class MoodleFetch:
    """A Moodle grade notification whose grade is still to be fetched from Moodle."""

    id: int
    client_id: str
    course_id: int
    user_id: int
    item_id: int | None
    notified_at: datetime
    received_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


async def pending_moodle_fetches(
    conn: AsyncConnection, *, failing_only: bool, after: int | None, limit: int
) -> list[MoodleFetch]:
    """Notifications not fetched yet (`failing_only`: those whose last attempt failed),
    oldest first, after the id `after`."""
    t = moodle_notification
    query = select(t).where(t.c.status == "pending").order_by(t.c.id).limit(limit)
    if failing_only:
        query = query.where(t.c.last_error.is_not(None))
    if after is not None:
        query = query.where(t.c.id > after)
    return [
        MoodleFetch(
            id=row.id,
            client_id=row.client_id,
            course_id=row.course_id,
            user_id=row.user_id,
            item_id=row.item_id,
            notified_at=row.notified_at,
            received_at=row.received_at,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
        )
        for row in await conn.execute(query)
    ]


async def moderations_of(conn: AsyncConnection, enrolment_id: UUID) -> list[ModerationRecord]:
    query = (
        select(moderation)
        .where(moderation.c.enrolment_id == enrolment_id)
        .order_by(moderation.c.id)
    )
    return [_moderation(row) for row in await conn.execute(query)]


async def cases_of(conn: AsyncConnection, enrolment_id: UUID) -> list[IntegrityCase]:
    query = (
        select(integrity_case)
        .where(integrity_case.c.enrolment_id == enrolment_id)
        .order_by(integrity_case.c.opened_at)
    )
    return [_case(row) for row in await conn.execute(query)]


async def cases(
    conn: AsyncConnection,
    status: CaseStatus,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[IntegrityCase]:
    """Cases in `status`, oldest first, after the (opened at, id) `after`."""
    query = _after(
        select(integrity_case).where(integrity_case.c.status == status),
        (integrity_case.c.opened_at, integrity_case.c.id),
        after,
    )
    return [_case(row) for row in await conn.execute(query.limit(limit))]


async def attendance_of(
    conn: AsyncConnection,
    offering_id: UUID,
    *,
    after: tuple[int, UUID] | None,
    limit: int,
) -> list[AttendanceRecord]:
    """The offering's register, by session and enrolment, after (session, enrolment)."""
    query = _after(
        select(attendance).where(attendance.c.offering_id == offering_id),
        (attendance.c.session, attendance.c.enrolment_id),
        after,
    )
    rows = await conn.execute(query.limit(limit))
    return [AttendanceRecord(**_fields(row, AttendanceRecord)) for row in rows]


async def roster_link_by_id(conn: AsyncConnection, link_id: int) -> RosterLink | None:
    row = (await conn.execute(select(roster_link).where(roster_link.c.id == link_id))).first()
    return RosterLink(**_fields(row, RosterLink)) if row is not None else None


async def roster_links(
    conn: AsyncConnection,
    *,
    client_id: str | None,
    offering_id: UUID | None,
    subject: str | None,
    after: int | None,
    limit: int,
) -> list[RosterLink]:
    """Links matching every filter given, by id, after the link id `after`."""
    query = select(roster_link).order_by(roster_link.c.id).limit(limit)
    for column, value in (
        (roster_link.c.client_id, client_id),
        (roster_link.c.offering_id, offering_id),
        (roster_link.c.subject, subject),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(roster_link.c.id > after)
    return [RosterLink(**_fields(row, RosterLink)) for row in await conn.execute(query)]


async def placement_by_id(conn: AsyncConnection, placement_id: UUID) -> Placement | None:
    row = (await conn.execute(select(placement).where(placement.c.id == placement_id))).first()
    return Placement(**_fields(row, Placement)) if row is not None else None


async def placements_of(
    conn: AsyncConnection,
    learner_id: UUID,
    *,
    before: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Placement]:
    """A learner's placements, newest first, before the (assessed at, id) `before`."""
    query = (
        select(placement)
        .where(placement.c.learner_id == learner_id)
        .order_by(placement.c.assessed_at.desc(), placement.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(tuple_(placement.c.assessed_at, placement.c.id) < tuple_(*before))
    return [Placement(**_fields(row, Placement)) for row in await conn.execute(query)]


def _after(query: Select[Any], key: tuple[Any, ...], after: tuple[Any, ...] | None) -> Select[Any]:
    """`query` in ascending order of `key`, from just after the value `after`."""
    query = query.order_by(*key)
    return query if after is None else query.where(tuple_(*key) > tuple_(*after))
