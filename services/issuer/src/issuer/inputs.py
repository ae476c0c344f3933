"""Queries over what other services told the issuer: awards, recipients, achievements, stacks.

Every write here is idempotent (a redelivered event changes nothing).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.catalogue import MicroCredentialPublished, StackPublished
from credstack.contracts.enrolment import EnrolmentConfirmed, LearnerContactChanged
from issuer.domain import Award, AwardState, Kind, stale_decision
from issuer.standards.openbadges3 import Recipient
from issuer.tables import (
    achievement,
    award,
    contact,
    decision,
    erased_learner,
    recipient,
    stack,
)


def _award(row: Any) -> Award:
    return Award(
        enrolment_id=row.enrolment_id,
        kind=Kind(row.kind),
        learner_id=row.learner_id,
        micro_credential_id=row.micro_credential_id,
        micro_credential_version=row.micro_credential_version,
        awarded_at=row.awarded_at,
        state=AwardState(row.status),
        score=None if row.score is None else Decimal(row.score),
        evidence=list(row.evidence),
        sessions_attended=row.sessions_attended,
        sessions_total=row.sessions_total,
    )


def _values(earned: Award) -> dict[str, Any]:
    return {
        "learner_id": earned.learner_id,
        "micro_credential_id": earned.micro_credential_id,
        "micro_credential_version": earned.micro_credential_version,
        "score": earned.score,
        "sessions_attended": earned.sessions_attended,
        "sessions_total": earned.sessions_total,
        "evidence": earned.evidence,
        "awarded_at": earned.awarded_at,
        "status": earned.state,
    }


async def apply_decision(
    conn: AsyncConnection, enrolment_id: UUID, sequence: int, event_type: str
) -> bool:
    """Record `sequence` as the newest decision applied to the enrolment; False (and
    nothing recorded) when it is older than one already applied. Call under the
    enrolment's `issuer.issue` lock."""
    if sequence == 0:
        return True
    latest = await conn.scalar(
        select(decision.c.sequence).where(decision.c.enrolment_id == enrolment_id)
    )
    if stale_decision(latest, sequence):
        return False
    values = {"sequence": sequence, "event_type": event_type}
    await conn.execute(
        insert(decision)
        .values(enrolment_id=enrolment_id, **values)
        .on_conflict_do_update(index_elements=[decision.c.enrolment_id], set_=values)
    )
    return True


async def record_award(conn: AsyncConnection, earned: Award, *, replaces_withdrawn: bool) -> None:
    """Record a pending award once; with ``replaces_withdrawn`` a pass after a withdrawn
    result (a regrade) is a new award, any other repeat is not."""
    values = _values(earned)
    statement = insert(award).values(enrolment_id=earned.enrolment_id, kind=earned.kind, **values)
    if replaces_withdrawn:
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["enrolment_id", "kind"],
                set_=values,
                where=award.c.status == AwardState.WITHDRAWN,
            )
        )
    else:
        await conn.execute(statement.on_conflict_do_nothing())


async def award_of(conn: AsyncConnection, enrolment_id: UUID, kind: Kind) -> Award | None:
    """The enrolment's award of that kind, whatever its state (locked for update)."""
    row = (
        await conn.execute(
            select(award)
            .where(award.c.enrolment_id == enrolment_id, award.c.kind == kind)
            .with_for_update()
        )
    ).first()
    return None if row is None else _award(row)


async def pending_award(conn: AsyncConnection, enrolment_id: UUID, kind: Kind) -> Award | None:
    row = (
        await conn.execute(
            select(award)
            .where(
                award.c.enrolment_id == enrolment_id,
                award.c.kind == kind,
                award.c.status == AwardState.PENDING,
            )
            .with_for_update()
        )
    ).first()
    return None if row is None else _award(row)


async def save_award_state(
    conn: AsyncConnection, enrolment_id: UUID, kind: Kind, state: AwardState
) -> None:
    await conn.execute(
        update(award)
        .where(award.c.enrolment_id == enrolment_id, award.c.kind == kind)
        .values(status=state)
    )


async def awards_waiting_for(
    conn: AsyncConnection, micro_credential_id: UUID, version: int
) -> list[tuple[UUID, Kind]]:
    """(enrolment, kind) of the pending awards of this micro-credential version."""
    rows = await conn.execute(
        select(award.c.enrolment_id, award.c.kind).where(
            award.c.micro_credential_id == micro_credential_id,
            award.c.micro_credential_version == version,
            award.c.status == AwardState.PENDING,
        )
    )
    return [(enrolment_id, Kind(kind)) for enrolment_id, kind in rows]


async def record_recipient(conn: AsyncConnection, event: EnrolmentConfirmed) -> None:
    """Who the enrolment's credential is for; a v1 event's name and email are not kept for
    a learner whose personal data was erased (a replay of what was erased)."""
    erased = await is_erased(conn, event.learner_id)
    await conn.execute(
        insert(recipient)
        .values(
            enrolment_id=event.enrolment_id,
            learner_id=event.learner_id,
            name=None if erased else event.learner_name,
            email=None if erased else event.email,
            did=event.learner_did,
        )
        .on_conflict_do_nothing()
    )


async def recipient_of(conn: AsyncConnection, enrolment_id: UUID) -> Recipient | None:
    """Who this enrolment's credential names: confirmed, with contact details known (the
    newest from the contact topic, else those a v1 EnrolmentConfirmed carried)."""
    row = (
        await conn.execute(
            select(
                func.coalesce(contact.c.name, recipient.c.name).label("name"),
                func.coalesce(contact.c.email, recipient.c.email).label("email"),
                recipient.c.did,
            )
            .select_from(
                recipient.outerjoin(contact, contact.c.learner_id == recipient.c.learner_id)
            )
            .where(recipient.c.enrolment_id == enrolment_id)
        )
    ).first()
    if row is None or row.name is None or row.email is None:
        return None
    return Recipient(name=row.name, email=row.email, did=row.did)


async def record_contact(conn: AsyncConnection, event: LearnerContactChanged) -> bool:
    """Keep the learner's newest contact details; False when ``event`` is older than those
    or than the learner's erasure (a replay of what was erased)."""
    erased_at = await conn.scalar(
        select(erased_learner.c.erased_at).where(erased_learner.c.learner_id == event.learner_id)
    )
    if erased_at is not None and event.changed_at <= erased_at:
        return False
    values = {"name": event.name, "email": event.email, "changed_at": event.changed_at}
    changed = await conn.execute(
        insert(contact)
        .values(learner_id=event.learner_id, **values)
        .on_conflict_do_update(
            index_elements=["learner_id"],
            set_=values,
            where=contact.c.changed_at <= event.changed_at,
        )
    )
    return bool(changed.rowcount)


async def awards_waiting_for_learner(
    conn: AsyncConnection, learner_id: UUID
) -> list[tuple[UUID, Kind]]:
    """(enrolment, kind) of the learner's pending awards."""
    rows = await conn.execute(
        select(award.c.enrolment_id, award.c.kind).where(
            award.c.learner_id == learner_id, award.c.status == AwardState.PENDING
        )
    )
    return [(enrolment_id, Kind(kind)) for enrolment_id, kind in rows]


async def record_achievement(conn: AsyncConnection, event: MicroCredentialPublished) -> None:
    await conn.execute(
        insert(achievement)
        .values(
            micro_credential_id=event.micro_credential_id,
            version=event.version,
            snapshot=event.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
    )


async def achievement_snapshot(
    conn: AsyncConnection, micro_credential_id: UUID, version: int
) -> dict[str, Any] | None:
    """The published micro-credential version, as the catalogue announced it."""
    snapshot: dict[str, Any] | None = await conn.scalar(
        select(achievement.c.snapshot).where(
            achievement.c.micro_credential_id == micro_credential_id,
            achievement.c.version == version,
        )
    )
    return snapshot


async def knows_stack(conn: AsyncConnection, stack_id: UUID, version: int) -> bool:
    """Whether the stack's version, as the catalogue announced it, is recorded here."""
    found = await conn.scalar(
        select(stack.c.version).where(stack.c.stack_id == stack_id, stack.c.version == version)
    )
    return found is not None


async def record_stack(conn: AsyncConnection, event: StackPublished) -> None:
    await conn.execute(
        insert(stack)
        .values(
            stack_id=event.stack_id,
            version=event.version,
            snapshot=event.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
    )


async def is_erased(conn: AsyncConnection, learner_id: UUID) -> bool:
    """The learner's personal data was erased and no newer contact details came since."""
    erased = await conn.scalar(
        select(erased_learner.c.learner_id).where(erased_learner.c.learner_id == learner_id)
    )
    if erased is None:
        return False
    back = await conn.scalar(select(contact.c.learner_id).where(contact.c.learner_id == learner_id))
    return back is None
