"""Assessment use cases. Grades may arrive before their enrolment is confirmed: they are
kept, and decided as soon as the confirmation (and the pass rule) are known."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.domain import ConfirmedEnrolment, PassRule, decide
from assessment.tables import enrolment, grade, outbox, pass_rule, result
from credstack.contracts.assessment import AssessmentPassed, OutcomeResult
from credstack.contracts.catalogue import MicroCredentialPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.contracts.envelope import Received
from credstack.locks import lock


async def record_grade(
    conn: AsyncConnection,
    *,
    enrolment_id: UUID,
    score: Decimal,
    outcomes: list[OutcomeResult] | None,
    source: str,
    client: str,
    now: datetime,
) -> str | None:
    """Keep the grade and decide the enrolment if possible; returns the outcome, if decided."""
    await conn.execute(
        grade.insert().values(
            enrolment_id=enrolment_id,
            score=score,
            outcomes=None if outcomes is None else [o.model_dump() for o in outcomes],
            source=source,
            client=client,
            received_at=now,
        )
    )
    return await decide_if_ready(conn, enrolment_id, now=now)


async def decide_if_ready(
    conn: AsyncConnection, enrolment_id: UUID, *, now: datetime
) -> str | None:
    """Decide a confirmed, graded, undecided enrolment whose pass rule is known."""
    await lock(conn, "assessment.decide", enrolment_id)
    if await conn.scalar(select(result.c.outcome).where(result.c.enrolment_id == enrolment_id)):
        return None
    confirmed = (
        await conn.execute(select(enrolment).where(enrolment.c.id == enrolment_id))
    ).first()
    if confirmed is None:
        return None
    rule = (
        await conn.execute(
            select(pass_rule).where(
                pass_rule.c.micro_credential_id == confirmed.micro_credential_id,
                pass_rule.c.version == confirmed.micro_credential_version,
            )
        )
    ).first()
    latest = (
        await conn.execute(
            select(grade)
            .where(grade.c.enrolment_id == enrolment_id)
            .order_by(grade.c.id.desc())
            .limit(1)
        )
    ).first()
    if rule is None or latest is None:
        return None
    event = decide(
        ConfirmedEnrolment(
            id=confirmed.id,
            learner_id=confirmed.learner_id,
            micro_credential_id=confirmed.micro_credential_id,
            micro_credential_version=confirmed.micro_credential_version,
        ),
        PassRule(rule.pass_mark, tuple(rule.learning_outcome_ids)),
        score=latest.score,
        outcomes=None
        if latest.outcomes is None
        else [OutcomeResult.model_validate(o) for o in latest.outcomes],
        at=now,
    )
    outcome = "passed" if isinstance(event, AssessmentPassed) else "failed"
    claimed = await conn.execute(
        insert(result)
        .values(
            enrolment_id=enrolment_id,
            outcome=outcome,
            score=latest.score,
            grade_id=latest.id,
            decided_at=now,
        )
        .on_conflict_do_nothing()
        .returning(result.c.enrolment_id)
    )
    if claimed.first() is None:
        return None
    await outbox.add(conn, event, now=now)
    return outcome


async def enrolment_confirmed(
    conn: AsyncConnection, event: EnrolmentConfirmed, received: Received
) -> None:
    await conn.execute(
        insert(enrolment)
        .values(
            id=event.enrolment_id,
            learner_id=event.learner_id,
            offering_id=event.offering_id,
            micro_credential_id=event.micro_credential_id,
            micro_credential_version=event.micro_credential_version,
            confirmed_at=event.confirmed_at,
        )
        .on_conflict_do_nothing()
    )
    await decide_if_ready(conn, event.enrolment_id, now=received.time)


async def micro_credential_published(
    conn: AsyncConnection, event: MicroCredentialPublished, received: Received
) -> None:
    await conn.execute(
        insert(pass_rule)
        .values(
            micro_credential_id=event.micro_credential_id,
            version=event.version,
            pass_mark=event.pass_mark,
            learning_outcome_ids=[o.id for o in event.learning_outcomes],
        )
        .on_conflict_do_nothing()
    )
    waiting = await conn.execute(
        select(enrolment.c.id).where(
            enrolment.c.micro_credential_id == event.micro_credential_id,
            enrolment.c.micro_credential_version == event.version,
            enrolment.c.id.not_in(select(result.c.enrolment_id)),
        )
    )
    for (enrolment_id,) in waiting.all():
        await decide_if_ready(conn, enrolment_id, now=received.time)
