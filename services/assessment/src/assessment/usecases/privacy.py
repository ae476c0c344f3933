"""A learner's privacy rights in assessment: everything it holds on them, and erasure.

The export holds, per enrolment, the grades received (as the LMS sent them), attendance,
the LMS identifiers linked to it, and the result with its moderations and integrity
decisions. While an integrity case is open (or a result is held) the result, moderations
and cases of that enrolment are withheld, and the export says so: they are exported once
decided.

Erasure (`LearnerDataErased`) removes what identifies the learner in the LMSs: roster
links, the subjects grades were sent for, the payloads the LMS sent (xAPI actors and
Caliper entities may carry names and emails) and Moodle's notifications. Grades' scores,
results, attendance, moderations and integrity decisions are academic records the
university keeps, under enrolment ids only; credentials rest on them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.tables import (
    attendance,
    enrolment,
    grade,
    integrity_case,
    moderation,
    moodle_notification,
    placement,
    result,
    roster_link,
)
from credstack.contracts.enrolment import LearnerDataErased
from credstack.contracts.envelope import Received
from credstack.privacy import LearnerData

WITHHELD = "withheld while an integrity case is open or the result is held; exported once decided"


class Grade(BaseModel):
    client_id: str
    source: str
    activity: str | None
    summative: bool
    score: Decimal | None
    outcomes: Any
    graded_at: datetime
    received_at: datetime
    status: str
    lms_subjects: list[str]
    payload: Any


class Attendance(BaseModel):
    session: int
    attended: bool
    recorded_at: datetime


class RosterLink(BaseModel):
    client_id: str
    lms_subject: str
    linked_at: datetime


class Moderation(BaseModel):
    action: str
    score: Decimal | None
    outcome: str | None
    reason: str
    moderated_at: datetime


class IntegrityCase(BaseModel):
    status: str
    reason: str
    opened_at: datetime
    finding_note: str | None
    decided_at: datetime | None


class Result(BaseModel):
    outcome: str
    score: Decimal | None
    decided_at: datetime
    released_at: datetime | None


class EnrolmentRecord(BaseModel):
    enrolment_id: UUID
    offering_id: UUID
    micro_credential_id: UUID
    status: str
    confirmed_at: datetime
    grades: list[Grade]
    attendance: list[Attendance]
    lms_links: list[RosterLink]
    result: Result | None
    moderations: list[Moderation]
    integrity_cases: list[IntegrityCase]
    withheld: str | None = None


class Placement(BaseModel):
    language: str
    level: str
    note: str
    assessed_at: datetime


class AssessmentData(LearnerData):
    enrolments: list[EnrolmentRecord]
    placements: list[Placement]


async def learner_data(conn: AsyncConnection, learner_id: UUID, *, at: datetime) -> AssessmentData:
    rows = await conn.execute(
        select(enrolment)
        .where(enrolment.c.learner_id == learner_id)
        .order_by(enrolment.c.confirmed_at, enrolment.c.id)
    )
    placements = await conn.execute(
        select(placement)
        .where(placement.c.learner_id == learner_id)
        .order_by(placement.c.assessed_at)
    )
    return AssessmentData(
        service="assessment",
        learner_id=learner_id,
        generated_at=at,
        enrolments=[await _record(conn, row) for row in rows.all()],
        placements=[
            Placement(language=p.language, level=p.level, note=p.note, assessed_at=p.assessed_at)
            for p in placements
        ],
    )


async def _record(conn: AsyncConnection, row: Any) -> EnrolmentRecord:
    enrolment_id = row.id
    grades = await conn.execute(
        select(grade).where(grade.c.enrolment_id == enrolment_id).order_by(grade.c.id)
    )
    sessions = await conn.execute(
        select(attendance)
        .where(attendance.c.enrolment_id == enrolment_id)
        .order_by(attendance.c.session)
    )
    links = await conn.execute(
        select(roster_link)
        .where(roster_link.c.enrolment_id == enrolment_id)
        .order_by(roster_link.c.id)
    )
    record = EnrolmentRecord(
        enrolment_id=enrolment_id,
        offering_id=row.offering_id,
        micro_credential_id=row.micro_credential_id,
        status=row.status,
        confirmed_at=row.confirmed_at,
        grades=[
            Grade(
                client_id=g.client_id,
                source=g.source,
                activity=g.activity,
                summative=g.summative,
                score=g.score,
                outcomes=g.outcomes,
                graded_at=g.graded_at,
                received_at=g.received_at,
                status=g.status,
                lms_subjects=list(g.subjects),
                payload=g.payload,
            )
            for g in grades
        ],
        attendance=[
            Attendance(session=a.session, attended=a.attended, recorded_at=a.recorded_at)
            for a in sessions
        ],
        lms_links=[
            RosterLink(client_id=r.client_id, lms_subject=r.subject, linked_at=r.linked_at)
            for r in links
        ],
        result=None,
        moderations=[],
        integrity_cases=[],
    )
    return await _decisions(conn, record)


async def _decisions(conn: AsyncConnection, record: EnrolmentRecord) -> EnrolmentRecord:
    """The result, moderations and integrity cases, unless an open case or a hold withholds
    them."""
    enrolment_id = record.enrolment_id
    found = (
        await conn.execute(select(result).where(result.c.enrolment_id == enrolment_id))
    ).first()
    cases = (
        await conn.execute(
            select(integrity_case)
            .where(integrity_case.c.enrolment_id == enrolment_id)
            .order_by(integrity_case.c.opened_at)
        )
    ).all()
    if (found is not None and found.held) or any(c.status == "open" for c in cases):
        return record.model_copy(update={"withheld": WITHHELD})
    moderations = await conn.execute(
        select(moderation)
        .where(moderation.c.enrolment_id == enrolment_id)
        .order_by(moderation.c.moderated_at)
    )
    return record.model_copy(
        update={
            "result": None
            if found is None
            else Result(
                outcome=found.outcome,
                score=found.score,
                decided_at=found.decided_at,
                released_at=found.released_at,
            ),
            "moderations": [
                Moderation(
                    action=m.action,
                    score=m.score,
                    outcome=m.outcome,
                    reason=m.reason,
                    moderated_at=m.moderated_at,
                )
                for m in moderations
            ],
            "integrity_cases": [
                IntegrityCase(
                    status=c.status,
                    reason=c.reason,
                    opened_at=c.opened_at,
                    finding_note=c.finding_note,
                    decided_at=c.decided_at,
                )
                for c in cases
            ],
        }
    )


async def learner_data_erased(
    conn: AsyncConnection, event: LearnerDataErased, received: Received
) -> None:
    """Remove what identifies the learner in the LMSs; keep the academic record. Applying
    it again finds nothing left to erase."""
    enrolments = select(enrolment.c.id).where(enrolment.c.learner_id == event.learner_id)
    await conn.execute(delete(roster_link).where(roster_link.c.enrolment_id.in_(enrolments)))
    erased_grades = await conn.scalars(
        update(grade)
        .where(grade.c.enrolment_id.in_(enrolments))
        .values(subjects=[], payload={})
        .returning(grade.c.id)
    )
    await conn.execute(
        delete(moodle_notification).where(moodle_notification.c.grade_id.in_(list(erased_grades)))
    )
