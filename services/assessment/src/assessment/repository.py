"""Queries richer than a single-row lookup, shared by the use cases (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.domain import (
    Attendance,
    ConfirmedEnrolment,
    Grade,
    Integrity,
    Moderation,
    ModerationAction,
    Outcome,
    PassRule,
    Result,
    Standing,
)
from assessment.registry import ClientKind, LmsClient, hash_secret
from assessment.tables import (
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


def client_of(row: Any) -> LmsClient:
    return LmsClient(
        id=row.id,
        kind=ClientKind(row.kind),
        name=row.name,
        offering_ids=frozenset(row.offering_ids),
        active=row.active,
        lti_issuer=row.lti_issuer,
        lti_deployment_id=row.lti_deployment_id,
        moodle_url=row.moodle_url,
    )


async def client_row(conn: AsyncConnection, client_id: str) -> Any:
    return (await conn.execute(select(lms_client).where(lms_client.c.id == client_id))).first()


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


async def confirmed_enrolment(conn: AsyncConnection, enrolment_id: UUID) -> Any:
    return (
        await conn.execute(
            select(enrolment).where(
                enrolment.c.id == enrolment_id, enrolment.c.status == "confirmed"
            )
        )
    ).first()


async def enrolment_offering(conn: AsyncConnection, enrolment_id: UUID) -> UUID | None:
    offering_id: UUID | None = await conn.scalar(
        select(enrolment.c.offering_id).where(enrolment.c.id == enrolment_id)
    )
    return offering_id


async def decisive_grade(conn: AsyncConnection, enrolment_id: UUID) -> Grade | None:
    """The enrolment's latest kept grade by the LMS's time (arrival breaks ties)."""
    row = (
        await conn.execute(
            select(grade)
            .where(grade.c.enrolment_id == enrolment_id, grade.c.status == "kept")
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


async def attendance_of(conn: AsyncConnection, enrolment_id: UUID, offering_id: UUID) -> Attendance:
    """Sessions attended in the enrolment's offering, out of the offering's contact
    sessions (or, when the catalogue does not say, the sessions with any record)."""
    attended = await conn.scalar(
        select(func.count()).where(
            attendance.c.offering_id == offering_id,
            attendance.c.enrolment_id == enrolment_id,
            attendance.c.attended,
        )
    )
    sessions = await conn.scalar(
        select(offering.c.contact_sessions).where(offering.c.id == offering_id)
    )
    if sessions is None:
        sessions = await conn.scalar(
            select(func.count(func.distinct(attendance.c.session))).where(
                attendance.c.offering_id == offering_id
            )
        )
    return Attendance(attended=int(attended or 0), sessions=int(sessions or 0))


async def integrity_of(conn: AsyncConnection, enrolment_id: UUID) -> Integrity:
    rows = (
        await conn.execute(
            select(integrity_case.c.status, integrity_case.c.finding_note).where(
                integrity_case.c.enrolment_id == enrolment_id,
                integrity_case.c.status.in_(("open", "misconduct")),
            )
        )
    ).all()
    misconduct = next((r.finding_note or "" for r in rows if r.status == "misconduct"), None)
    return Integrity(open=any(r.status == "open" for r in rows), misconduct=misconduct)


async def result_of(conn: AsyncConnection, enrolment_id: UUID) -> Result:
    row = (await conn.execute(select(result).where(result.c.enrolment_id == enrolment_id))).first()
    return Result() if row is None else _result(row)


async def confirmed_among(conn: AsyncConnection, enrolment_ids: Iterable[UUID]) -> set[UUID]:
    ids = list(set(enrolment_ids))
    if not ids:
        return set()
    rows = await conn.execute(
        select(enrolment.c.id).where(enrolment.c.id.in_(ids), enrolment.c.status == "confirmed")
    )
    return {row.id for row in rows}


async def results_among(conn: AsyncConnection, enrolment_ids: Iterable[UUID]) -> dict[UUID, Result]:
    ids = list(set(enrolment_ids))
    if not ids:
        return {}
    rows = await conn.execute(select(result).where(result.c.enrolment_id.in_(ids)))
    return {row.enrolment_id: _result(row) for row in rows}


def _result(row: Any) -> Result:
    return Result(
        outcome=Outcome(row.outcome),
        released=Outcome(row.released_outcome) if row.released_outcome else None,
        held=row.held,
        score=row.score,
        outcomes=outcome_results(row.outcomes),
        grade_id=row.grade_id,
        moderation_id=row.moderation_id,
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
        "decided_at": now,
    }
    if released:
        values["released_at"] = now
    await conn.execute(
        insert(result)
        .values(enrolment_id=enrolment_id, **values)
        .on_conflict_do_update(index_elements=[result.c.enrolment_id], set_=values)
    )


async def standing(conn: AsyncConnection, enrolment_id: UUID) -> Standing | None:
    """Everything the rules need about a confirmed enrolment whose pass rule is known."""
    row = await confirmed_enrolment(conn, enrolment_id)
    if row is None:
        return None
    rule = (
        await conn.execute(
            select(pass_rule).where(
                and_(
                    pass_rule.c.micro_credential_id == row.micro_credential_id,
                    pass_rule.c.version == row.micro_credential_version,
                )
            )
        )
    ).first()
    if rule is None:
        return None
    return Standing(
        enrolment=ConfirmedEnrolment(
            id=row.id,
            learner_id=row.learner_id,
            micro_credential_id=row.micro_credential_id,
            micro_credential_version=row.micro_credential_version,
        ),
        rule=PassRule(rule.pass_mark, tuple(rule.learning_outcome_ids)),
        grade=await decisive_grade(conn, enrolment_id),
        moderation=await latest_moderation(conn, enrolment_id),
        attendance=await attendance_of(conn, enrolment_id, row.offering_id),
        integrity=await integrity_of(conn, enrolment_id),
        result=await result_of(conn, enrolment_id),
    )
