"""Queries richer than a single-row lookup, shared by the use cases (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.domain import (
    Attendance,
    CaseStatus,
    ConfirmedEnrolment,
    EnrolmentStatus,
    Grade,
    GradeStatus,
    Integrity,
    Moderation,
    ModerationAction,
    Outcome,
    PassRule,
    Result,
    Standing,
)
from assessment.registry import ClientKind, LearnerIds, LmsClient, hash_secret
from assessment.tables import (
    assessed_activity,
    attendance,
    enrolment,
    grade,
    integrity_case,
    lms_client,
    moderation,
    offering,
    pass_rule,
    result,
)
from credstack.contracts.assessment import OutcomeResult


def client_of(row: Row[Any]) -> LmsClient:
    return LmsClient(
        id=row.id,
        kind=ClientKind(row.kind),
        name=row.name,
        offering_ids=frozenset(row.offering_ids),
        active=row.active,
        lti_issuer=row.lti_issuer,
        lti_deployment_id=row.lti_deployment_id,
        moodle_url=row.moodle_url,
        learner_ids=LearnerIds(row.learner_ids),
    )


async def client(conn: AsyncConnection, client_id: str) -> LmsClient | None:
    row = (await conn.execute(select(lms_client).where(lms_client.c.id == client_id))).first()
    return client_of(row) if row is not None else None


async def client_secret_hash(conn: AsyncConnection, client_id: str) -> str | None:
    """The hash of the client's secret; None for an unknown client or one without."""
    found: str | None = await conn.scalar(
        select(lms_client.c.secret_hash).where(lms_client.c.id == client_id)
    )
    return found


async def clients(conn: AsyncConnection, *, after: str | None, limit: int) -> list[LmsClient]:
    """Registered clients by id, after the id `after`."""
    query = select(lms_client).order_by(lms_client.c.id).limit(limit)
    if after is not None:
        query = query.where(lms_client.c.id > after)
    return [client_of(row) for row in await conn.execute(query)]


@dataclass(frozen=True)
class AnnouncedOffering:
    """An offering as the catalogue announced it."""

    id: UUID
    code: str
    title: str


async def announced_offering(conn: AsyncConnection, offering_id: UUID) -> AnnouncedOffering | None:
    row = (
        await conn.execute(
            select(offering.c.id, offering.c.code, offering.c.title).where(
                offering.c.id == offering_id
            )
        )
    ).first()
    return AnnouncedOffering(row.id, row.code, row.title) if row is not None else None


async def client_by_secret(conn: AsyncConnection, secret: str) -> LmsClient | None:
    row = (
        await conn.execute(
            select(lms_client).where(lms_client.c.secret_hash == hash_secret(secret))
        )
    ).first()
    return client_of(row) if row is not None else None


def outcome_results(stored: Any) -> tuple[OutcomeResult, ...] | None:
    return None if stored is None else tuple(OutcomeResult.model_validate(o) for o in stored)


def stored_outcomes(outcomes: Iterable[OutcomeResult] | None) -> list[dict[str, Any]] | None:
    return None if outcomes is None else [o.model_dump() for o in outcomes]


async def enrolment_offering(conn: AsyncConnection, enrolment_id: UUID) -> UUID | None:
    offering_id: UUID | None = await conn.scalar(
        select(enrolment.c.offering_id).where(enrolment.c.id == enrolment_id)
    )
    return offering_id


async def decisive_grade(conn: AsyncConnection, enrolment_id: UUID) -> Grade | None:
    """The enrolment's latest kept summative grade by the LMS's time (arrival breaks
    ties); formative grades never decide."""
    row = (
        await conn.execute(
            select(grade)
            .where(
                grade.c.enrolment_id == enrolment_id,
                grade.c.status == GradeStatus.KEPT,
                grade.c.summative.is_(True),
            )
            .order_by(grade.c.graded_at.desc(), grade.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return Grade(
        score=row.score,
        outcomes=outcome_results(row.outcomes),
        final=row.final,
        evidence=tuple(row.evidence),
        id=row.id,
    )


async def declared_summative(
    conn: AsyncConnection, client_id: str, offering_id: UUID | None
) -> frozenset[str]:
    """The activity staff declared summative for the client and offering (if any)."""
    if offering_id is None:
        return frozenset()
    rows = await conn.scalars(
        select(assessed_activity.c.activity).where(
            assessed_activity.c.client_id == client_id,
            assessed_activity.c.offering_id == offering_id,
            assessed_activity.c.summative.is_(True),
        )
    )
    return frozenset(rows)


async def latest_moderation(conn: AsyncConnection, enrolment_id: UUID) -> Moderation | None:
    row = (
        await conn.execute(
            select(moderation)
            .where(moderation.c.enrolment_id == enrolment_id)
            .order_by(moderation.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return Moderation(
        action=ModerationAction(row.action),
        reason=row.reason,
        score=row.score,
        outcomes=outcome_results(row.outcomes),
        outcome=Outcome(row.outcome) if row.outcome else None,
        id=row.id,
    )


async def save_result(
    conn: AsyncConnection, enrolment_id: UUID, decided: Result, *, released: bool, now: datetime
) -> None:
    assert decided.outcome is not None
    values = {
        "outcome": decided.outcome.value,
        "released_outcome": decided.released.value if decided.released else None,
        "held": decided.held,
        "score": decided.score,
        "outcomes": stored_outcomes(decided.outcomes),
        "grade_id": decided.grade_id,
        "moderation_id": decided.moderation_id,
        "decision_sequence": decided.sequence,
        "decided_at": now,
    }
    if released:
        values["released_at"] = now
    await conn.execute(
        insert(result)
        .values(enrolment_id=enrolment_id, **values)
        .on_conflict_do_update(index_elements=[result.c.enrolment_id], set_=values)
    )


@dataclass(frozen=True)
class EnrolmentRecord:
    """An enrolment as the assessment service knows it, with all that decides its result
    except the grades and moderations (`standing` adds those)."""

    enrolment: ConfirmedEnrolment
    offering_id: UUID
    status: EnrolmentStatus
    rule: PassRule | None
    attendance: Attendance
    integrity: Integrity
    result: Result
    unannounced_grades: bool

    @property
    def confirmed(self) -> bool:
        return self.status is EnrolmentStatus.CONFIRMED


def _attendance_counts() -> tuple[Any, Any]:
    """Per enrolment: the sessions it attended, and the offering's sessions recorded."""
    attended = (
        select(func.count())
        .where(
            attendance.c.offering_id == enrolment.c.offering_id,
            attendance.c.enrolment_id == enrolment.c.id,
            attendance.c.attended,
        )
        .scalar_subquery()
    )
    sessions_recorded = (
        select(func.count(func.distinct(attendance.c.session)))
        .where(attendance.c.offering_id == enrolment.c.offering_id)
        .scalar_subquery()
    )
    return attended, sessions_recorded


def _integrity_flags() -> tuple[Any, Any]:
    """Per enrolment: whether an integrity case is open, and misconduct's finding note."""
    case_open = exists().where(
        integrity_case.c.enrolment_id == enrolment.c.id, integrity_case.c.status == CaseStatus.OPEN
    )
    misconduct = (
        select(func.coalesce(integrity_case.c.finding_note, ""))
        .where(
            integrity_case.c.enrolment_id == enrolment.c.id,
            integrity_case.c.status == CaseStatus.MISCONDUCT,
        )
        .limit(1)
        .scalar_subquery()
    )
    return case_open, misconduct


def _record_query(enrolment_id: UUID) -> Any:
    """One round trip for the enrolment, its pass rule, attendance, cases and result."""
    attended, sessions_recorded = _attendance_counts()
    case_open, misconduct = _integrity_flags()
    unannounced = exists().where(
        grade.c.enrolment_id == enrolment.c.id,
        grade.c.status == GradeStatus.KEPT,
        grade.c.announced.is_(False),
    )
    return (
        select(
            enrolment,
            pass_rule.c.pass_mark,
            pass_rule.c.learning_outcome_ids,
            offering.c.contact_sessions,
            attended.label("attended"),
            sessions_recorded.label("sessions_recorded"),
            case_open.label("case_open"),
            misconduct.label("misconduct"),
            unannounced.label("unannounced"),
            result.c.outcome.label("result_outcome"),
            result.c.released_outcome.label("result_released_outcome"),
            result.c.held.label("result_held"),
            result.c.score.label("result_score"),
            result.c.outcomes.label("result_outcomes"),
            result.c.grade_id.label("result_grade_id"),
            result.c.moderation_id.label("result_moderation_id"),
            result.c.decision_sequence.label("result_sequence"),
        )
        .select_from(
            enrolment.outerjoin(
                pass_rule,
                and_(
                    pass_rule.c.micro_credential_id == enrolment.c.micro_credential_id,
                    pass_rule.c.version == enrolment.c.micro_credential_version,
                ),
            )
            .outerjoin(offering, offering.c.id == enrolment.c.offering_id)
            .outerjoin(result, result.c.enrolment_id == enrolment.c.id)
        )
        .where(enrolment.c.id == enrolment_id)
    )


async def enrolment_record(conn: AsyncConnection, enrolment_id: UUID) -> EnrolmentRecord | None:
    """The enrolment (confirmed, or since cancelled, withdrawn...), or None if unknown."""
    row = (await conn.execute(_record_query(enrolment_id))).first()
    if row is None:
        return None
    sessions = row.contact_sessions if row.contact_sessions is not None else row.sessions_recorded
    decided = row.result_outcome is not None
    return EnrolmentRecord(
        enrolment=ConfirmedEnrolment(
            id=row.id,
            learner_id=row.learner_id,
            micro_credential_id=row.micro_credential_id,
            micro_credential_version=row.micro_credential_version,
        ),
        offering_id=row.offering_id,
        status=EnrolmentStatus(row.status),
        rule=None
        if row.pass_mark is None
        else PassRule(row.pass_mark, tuple(row.learning_outcome_ids)),
        attendance=Attendance(attended=int(row.attended), sessions=int(sessions or 0)),
        integrity=Integrity(open=bool(row.case_open), misconduct=row.misconduct),
        result=Result(
            outcome=Outcome(row.result_outcome),
            released=Outcome(row.result_released_outcome) if row.result_released_outcome else None,
            held=row.result_held,
            score=row.result_score,
            outcomes=outcome_results(row.result_outcomes),
            grade_id=row.result_grade_id,
            moderation_id=row.result_moderation_id,
            sequence=row.result_sequence,
        )
        if decided
        else Result(),
        unannounced_grades=bool(row.unannounced),
    )


async def standing(conn: AsyncConnection, record: EnrolmentRecord) -> Standing | None:
    """Everything the rules need, once the enrolment's pass rule is known."""
    if record.rule is None:
        return None
    return Standing(
        enrolment=record.enrolment,
        rule=record.rule,
        grade=await decisive_grade(conn, record.enrolment.id),
        moderation=await latest_moderation(conn, record.enrolment.id),
        attendance=record.attendance,
        integrity=record.integrity,
        result=record.result,
    )


@dataclass(frozen=True)
class ReleasedDecision:
    """What assessment last released for an enrolment, for the reconciler."""

    enrolment_id: UUID
    released_outcome: Outcome
    sequence: int
    released_at: datetime | None


async def released_decisions(
    conn: AsyncConnection, *, after: UUID | None, limit: int
) -> list[ReleasedDecision]:
    """Every enrolment with a released result, by enrolment id."""
    query = (
        select(
            result.c.enrolment_id,
            result.c.released_outcome,
            result.c.decision_sequence,
            result.c.released_at,
        )
        .where(result.c.released_outcome.is_not(None))
        .order_by(result.c.enrolment_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(result.c.enrolment_id > after)
    return [
        ReleasedDecision(
            enrolment_id=row.enrolment_id,
            released_outcome=Outcome(row.released_outcome),
            sequence=row.decision_sequence,
            released_at=row.released_at,
        )
        for row in await conn.execute(query)
    ]


async def offering_outcomes(conn: AsyncConnection, offering_id: UUID) -> frozenset[str] | None:
    """The learning outcome ids of the offering's micro-credential, if known yet."""
    ids = await conn.scalar(
        select(pass_rule.c.learning_outcome_ids)
        .join(
            offering,
            (offering.c.micro_credential_id == pass_rule.c.micro_credential_id)
            & (offering.c.micro_credential_version == pass_rule.c.version),
        )
        .where(offering.c.id == offering_id)
    )
    return frozenset(ids) if ids is not None else None
