"""The email outbox: staging messages once per cause, the sender's queue, and staff's view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.domain import Kind, Status, status_of
from notifier.tables import (
    contact,
    message,
    preference,
)


async def stage_message(
    conn: AsyncConnection,
    kind: Kind,
    dedup_key: str,
    facts: dict[str, Any],
    *,
    at: datetime,
    learner_id: UUID | None = None,
    to_address: str | None = None,
    language: str | None = None,
    resend_of: UUID | None = None,
) -> UUID | None:
    """Keep a message for the sender, once per ``dedup_key``; its id if new."""
    staged: UUID | None = await conn.scalar(
        insert(message)
        .values(
            id=uuid4(),
            dedup_key=dedup_key,
            kind=kind,
            learner_id=learner_id,
            to_address=to_address,
            language=language,
            facts=facts,
            created_at=at,
            resend_of=resend_of,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(message.c.id)
    )
    return staged


async def next_sendable(conn: AsyncConnection, max_attempts: int, at: datetime) -> Any:
    """The oldest unsent message whose address is known, locked (SKIP LOCKED: replicas
    share the work), with the learner's contact and preferences joined."""
    return (
        await conn.execute(
            select(
                message,
                contact.c.email.label("contact_email"),
                contact.c.name.label("contact_name"),
                contact.c.language.label("contact_language"),
                preference.c.language.label("preferred_language"),
            )
            .select_from(
                message.outerjoin(contact, contact.c.learner_id == message.c.learner_id).outerjoin(
                    preference, preference.c.learner_id == message.c.learner_id
                )
            )
            .where(
                message.c.sent_at.is_(None),
                message.c.failed_at.is_(None),
                message.c.attempts < max_attempts,
                or_(message.c.not_before.is_(None), message.c.not_before <= at),
                or_(message.c.to_address.is_not(None), contact.c.email.is_not(None)),
            )
            .order_by(message.c.seq)
            .limit(1)
            .with_for_update(of=message, skip_locked=True)
        )
    ).first()


async def mark_sent(
    conn: AsyncConnection,
    message_id: UUID,
    *,
    to: str,
    subject: str,
    language: str,
    attempts: int,
    at: datetime,
) -> None:
    await conn.execute(
        update(message)
        .where(message.c.id == message_id)
        .values(
            sent_at=at,
            to_address=to,
            subject=subject,
            language=language,
            attempts=attempts,
            last_error=None,
        )
    )


async def postpone(conn: AsyncConnection, message_id: UUID, until: datetime, why: str) -> None:
    await conn.execute(
        update(message).where(message.c.id == message_id).values(not_before=until, last_error=why)
    )


async def wake(conn: AsyncConnection, dedup_key: str) -> None:
    """What a postponed, unsent message waited for has arrived: the sender's next pass may
    take it."""
    await conn.execute(
        update(message)
        .where(
            message.c.dedup_key == dedup_key,
            message.c.sent_at.is_(None),
            message.c.not_before.is_not(None),
        )
        .values(not_before=None, last_error=None)
    )


async def mark_failed_attempt(
    conn: AsyncConnection,
    message_id: UUID,
    *,
    attempts: int,
    error: str,
    give_up_at: datetime | None,
) -> None:
    await conn.execute(
        update(message)
        .where(message.c.id == message_id)
        .values(attempts=attempts, last_error=error[:2000], failed_at=give_up_at)
    )


@dataclass(frozen=True)
class MessageRecord:
    id: UUID
    seq: int
    kind: str
    learner_id: UUID | None
    to_address: str | None
    language: str | None
    subject: str | None
    status: Status
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    resend_of: UUID | None
    facts: dict[str, Any]


def _record(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        seq=row.seq,
        kind=row.kind,
        learner_id=row.learner_id,
        to_address=row.to_address,
        language=row.language,
        subject=row.subject,
        status=status_of(row.sent_at is not None, row.failed_at is not None),
        created_at=row.created_at,
        sent_at=row.sent_at,
        attempts=row.attempts,
        last_error=row.last_error,
        resend_of=row.resend_of,
        facts=dict(row.facts),
    )


async def messages(
    conn: AsyncConnection,
    *,
    status: Status | None,
    learner_id: UUID | None,
    before: int | None,
    limit: int,
) -> list[MessageRecord]:
    """Messages newest first (those staged before ``before``)."""
    query = select(message).order_by(message.c.seq.desc())
    if status is Status.SENT:
        query = query.where(message.c.sent_at.is_not(None))
    elif status is Status.FAILED:
        query = query.where(message.c.failed_at.is_not(None))
    elif status is Status.PENDING:
        query = query.where(message.c.sent_at.is_(None), message.c.failed_at.is_(None))
    if learner_id is not None:
        query = query.where(message.c.learner_id == learner_id)
    if before is not None:
        query = query.where(message.c.seq < before)
    return [_record(row) for row in await conn.execute(query.limit(limit))]


async def message_of(conn: AsyncConnection, message_id: UUID) -> MessageRecord | None:
    row = (await conn.execute(select(message).where(message.c.id == message_id))).first()
    return None if row is None else _record(row)


async def count_resends(conn: AsyncConnection, message_id: UUID) -> int:
    return int(
        await conn.scalar(
            select(func.count()).select_from(message).where(message.c.resend_of == message_id)
        )
        or 0
    )


async def result_sent(conn: AsyncConnection, enrolment_id: str) -> bool:
    """Whether the enrolment's result message (passed or not yet) has gone out."""
    found = await conn.scalar(
        select(message.c.id)
        .where(
            message.c.kind.in_([Kind.RESULT_PASSED, Kind.RESULT_NOT_YET]),
            message.c.facts["enrolment_id"].astext == enrolment_id,
            message.c.sent_at.is_not(None),
        )
        .limit(1)
    )
    return found is not None


async def wake_credential_of(conn: AsyncConnection, enrolment_id: str) -> None:
    """The enrolment's result message went out: its credential email, postponed until
    then, may follow on the sender's next pass."""
    await conn.execute(
        update(message)
        .where(
            message.c.kind == Kind.CREDENTIAL_ISSUED,
            message.c.facts["enrolment_id"].astext == enrolment_id,
            message.c.sent_at.is_(None),
            message.c.not_before.is_not(None),
        )
        .values(not_before=None, last_error=None)
    )
