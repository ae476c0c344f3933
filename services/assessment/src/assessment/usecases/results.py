"""Deciding results, and what staff do to them: moderation, integrity cases, attendance.

Every change to an input of a decision ends in `settle`, which takes the enrolment's
advisory lock, so that two inputs arriving together (a grade and the confirmation, say)
cannot both miss the decision, and one decision is never made twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import domain, registers, repository
from assessment.domain import (
    CaseAlreadyDecided,
    CaseStatus,
    GradeStatus,
    ModerationAction,
    Outcome,
    Result,
    decide,
)
from assessment.repository import EnrolmentRecord
from assessment.tables import (
    grade,
    integrity_case,
    lms_client,
    moderation,
    outbox,
)
from assessment.usecases import NotFound, Unprocessable
from credstack.contracts.assessment import GradeRecorded, OutcomeResult
from credstack.locks import lock


async def _announce_grades(
    conn: AsyncConnection, enrolment_id: UUID, offering_id: UUID, *, now: datetime
) -> None:
    """Tell (GradeRecorded) each summative grade not yet told for this, now confirmed,
    enrolment (formative grades are kept for staff and never decide).

    A grade that arrived before the confirmation could not be checked against the
    offering then: one from a client that does not serve the offering is quarantined
    now instead (unless staff assigned it).
    """
    rows = (
        await conn.execute(
            select(
                grade.c.id,
                grade.c.score,
                grade.c.source,
                grade.c.final,
                grade.c.graded_at,
                grade.c.client_id,
                grade.c.resolved_by,
                grade.c.summative,
                lms_client.c.offering_ids.contains([offering_id]).label("served"),
            )
            .join(lms_client, lms_client.c.id == grade.c.client_id)
            .where(
                grade.c.enrolment_id == enrolment_id,
                grade.c.status == GradeStatus.KEPT,
                grade.c.announced.is_(False),
            )
            .order_by(grade.c.id)
        )
    ).all()
    for row in rows:
        if not row.served and row.resolved_by is None:
            await conn.execute(
                update(grade)
                .where(grade.c.id == row.id)
                .values(
                    status=GradeStatus.QUARANTINED,
                    note=f"client {row.client_id} does not serve offering {offering_id}",
                )
            )
            continue
        if row.score is not None and row.summative:
            await outbox.add(
                conn,
                GradeRecorded(
                    enrolment_id=enrolment_id,
                    score=row.score,
                    source=row.source,
                    final=row.final,
                    recorded_at=now,
                    graded_at=row.graded_at,
                ),
                now=now,
            )
    if rows:
        await conn.execute(
            update(grade).where(grade.c.id.in_([r.id for r in rows])).values(announced=True)
        )


@dataclass(frozen=True)
class Settled:
    """Whether the enrolment is confirmed (only then is it decided), and what stands."""

    confirmed: bool
    result: Result


async def settle(conn: AsyncConnection, enrolment_id: UUID, *, now: datetime) -> Settled:
    """Decide an enrolment again from everything known; stage what changed.

    An enrolment not confirmed yet, or whose pass rule is not known yet, is left
    undecided: it is settled again when they arrive.
    """
    await lock(conn, "assessment.decide", enrolment_id)
    record = await repository.enrolment_record(conn, enrolment_id)
    if record is None or not record.confirmed:
        return Settled(False, Result())
    if record.unannounced_grades:
        await _announce_grades(conn, enrolment_id, record.offering_id, now=now)
    standing = await repository.standing(conn, record)
    if standing is None:
        return Settled(True, record.result)
    decision = decide(standing, at=now)
    if decision.result != standing.result:
        await repository.save_result(
            conn,
            enrolment_id,
            decision.result,
            released=decision.result.released is not standing.result.released,
            now=now,
        )
    for event in decision.events:
        await outbox.add(conn, event, now=now)
    return Settled(True, decision.result)


async def reannounce(conn: AsyncConnection, enrolment_id: UUID, *, now: datetime) -> list[str]:
    """Stage the released result's events again (the reconciler's repair); their types."""
    await lock(conn, "assessment.decide", enrolment_id)
    record = await repository.enrolment_record(conn, enrolment_id)
    if record is None:
        raise NotFound(f"No assessed enrolment {enrolment_id}.")
    standing = await repository.standing(conn, record)
    events = [] if standing is None else domain.reannouncement(standing, at=now)
    for event in events:
        await outbox.add(conn, event, now=now)
    return [event.type_name() for event in events]


async def settle_all(
    conn: AsyncConnection, enrolment_ids: Iterable[UUID], *, now: datetime
) -> dict[UUID, Settled]:
    """Settle several enrolments, always in the same order (no two transactions can
    then wait for each other's locks)."""
    return {e: await settle(conn, e, now=now) for e in sorted(set(enrolment_ids))}


async def confirmed_record(conn: AsyncConnection, enrolment_id: UUID) -> EnrolmentRecord:
    record = await repository.enrolment_record(conn, enrolment_id)
    if record is None or not record.confirmed:
        raise NotFound(
            f"No confirmed enrolment {enrolment_id}: only confirmed enrolments are assessed."
        )
    return record


@dataclass(frozen=True)
class Moderated:
    moderation_id: int
    result: Result


async def moderate(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    action: ModerationAction,
    reason: str,
    score: Decimal | None,
    outcomes: tuple[OutcomeResult, ...] | None,
    outcome: Outcome | None,
    by: str,
    now: datetime,
) -> Moderated:
    """Record a staff regrade or override (it stands over the LMS's grades until the
    next moderation) with the result before and after, and decide again."""
    await lock(conn, "assessment.decide", enrolment_id)
    before = (await confirmed_record(conn, enrolment_id)).result
    domain.moderate(before)
    if action is ModerationAction.REGRADE and outcomes is None:
        lms = await repository.decisive_grade(conn, enrolment_id)
        outcomes = lms.outcomes if lms is not None else None
    act = domain.Moderation(
        action=action, reason=reason, score=score, outcomes=outcomes, outcome=outcome
    )
    moderation_id = await conn.scalar(
        moderation.insert()
        .values(
            enrolment_id=enrolment_id,
            action=act.action.value,
            score=act.score,
            outcomes=repository.stored_outcomes(act.outcomes),
            outcome=act.outcome.value if act.outcome else None,
            reason=reason,
            moderated_by=by,
            moderated_at=now,
            outcome_before=before.outcome.value if before.outcome else None,
        )
        .returning(moderation.c.id)
    )
    after = (await settle(conn, enrolment_id, now=now)).result
    await conn.execute(
        update(moderation)
        .where(moderation.c.id == moderation_id)
        .values(outcome_after=after.outcome.value if after.outcome else None)
    )
    return Moderated(moderation_id=int(moderation_id), result=after)


async def open_case(
    conn: AsyncConnection, enrolment_id: UUID, *, reason: str, by: str, now: datetime
) -> UUID:
    """Open an academic integrity case: while it is open no pass is released."""
    await lock(conn, "assessment.decide", enrolment_id)
    record = await confirmed_record(conn, enrolment_id)
    domain.open_case(record.integrity, record.result)
    case_id = uuid4()
    await conn.execute(
        integrity_case.insert().values(
            id=case_id,
            enrolment_id=enrolment_id,
            status=CaseStatus.OPEN.value,
            reason=reason,
            opened_by=by,
            opened_at=now,
        )
    )
    await settle(conn, enrolment_id, now=now)
    return case_id


async def decide_case(
    conn: AsyncConnection,
    case_id: UUID,
    *,
    finding: CaseStatus,
    note: str,
    by: str,
    now: datetime,
) -> Result:
    """Record the case's finding: misconduct withdraws the result, cleared releases it.
    Returns the result that then stands."""
    enrolment_id = await conn.scalar(
        select(integrity_case.c.enrolment_id).where(integrity_case.c.id == case_id)
    )
    if enrolment_id is None:
        raise NotFound(f"No integrity case {case_id}.")
    await lock(conn, "assessment.decide", enrolment_id)
    status = await conn.scalar(
        select(integrity_case.c.status).where(integrity_case.c.id == case_id)
    )
    if status != CaseStatus.OPEN:
        raise CaseAlreadyDecided(f"Integrity case {case_id} was already decided ({status}).")
    await conn.execute(
        update(integrity_case)
        .where(integrity_case.c.id == case_id)
        .values(status=finding.value, finding_note=note, decided_by=by, decided_at=now)
    )
    return (await settle(conn, enrolment_id, now=now)).result


async def record_attendance(
    conn: AsyncConnection,
    offering_id: UUID,
    session: int,
    *,
    present: set[UUID],
    absent: set[UUID],
    by: str,
    now: datetime,
) -> None:
    """Record one contact session's register and decide the enrolments it concerns.

    An enrolment not confirmed yet is recorded all the same and counts once it is.
    """
    if present & absent:
        raise Unprocessable("An enrolment cannot be both present and absent.")
    sessions = await registers.contact_sessions(conn, offering_id)
    if sessions is not None and not 1 <= session <= sessions:
        raise Unprocessable(f"Offering {offering_id} has contact sessions 1 to {sessions}.")
    if elsewhere := await registers.enrolled_elsewhere(conn, present | absent, offering_id):
        raise Unprocessable(
            "Not enrolled in this offering: "
            + ", ".join(f"{enrolment_id} (in {other})" for enrolment_id, other in elsewhere)
        )
    named = sorted(present | absent)
    if not named:
        raise Unprocessable("The register names no enrolment.")
    await registers.save_register(
        conn, offering_id, session, {e: e in present for e in named}, by=by, at=now
    )
    await settle_all(conn, named, now=now)
