"""Every query of the notifier; returns dataclasses or plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.domain import CredentialStatus, Kind, Stage, Status, status_of
from notifier.tables import (
    contact,
    credential,
    enrolment,
    interest,
    message,
    micro_credential,
    offering,
    preference,
    stack,
)

# -- contacts and preferences ---------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    learner_id: UUID
    email: str
    name: str
    language: str | None


async def save_contact(
    conn: AsyncConnection,
    learner_id: UUID,
    *,
    email: str,
    name: str,
    language: str | None,
    at: datetime,
) -> None:
    """Keep the newest contact details (an older event changes nothing)."""
    values = {"email": email, "name": name, "language": language, "changed_at": at}
    await conn.execute(
        insert(contact)
        .values(learner_id=learner_id, **values)
        .on_conflict_do_update(
            index_elements=["learner_id"], set_=values, where=contact.c.changed_at <= at
        )
    )


async def contact_of(conn: AsyncConnection, learner_id: UUID) -> Contact | None:
    row = (await conn.execute(select(contact).where(contact.c.learner_id == learner_id))).first()
    return None if row is None else Contact(row.learner_id, row.email, row.name, row.language)


@dataclass(frozen=True)
class Preferences:
    language: str | None
    reminders: bool


async def preferences_of(conn: AsyncConnection, learner_id: UUID) -> Preferences:
    row = (
        await conn.execute(select(preference).where(preference.c.learner_id == learner_id))
    ).first()
    return Preferences(None, True) if row is None else Preferences(row.language, row.reminders)


async def save_preferences(
    conn: AsyncConnection, learner_id: UUID, chosen: Preferences, at: datetime
) -> None:
    values = {"language": chosen.language, "reminders": chosen.reminders, "updated_at": at}
    await conn.execute(
        insert(preference)
        .values(learner_id=learner_id, **values)
        .on_conflict_do_update(index_elements=["learner_id"], set_=values)
    )


async def erase_learner(conn: AsyncConnection, learner_id: UUID) -> None:
    """Remove the learner's contact details, choices and interest registrations; unsent
    messages are dropped, sent ones keep only what they were and when (no address)."""
    found = await contact_of(conn, learner_id)
    await conn.execute(delete(contact).where(contact.c.learner_id == learner_id))
    await conn.execute(delete(preference).where(preference.c.learner_id == learner_id))
    await conn.execute(
        delete(message).where(message.c.learner_id == learner_id, message.c.sent_at.is_(None))
    )
    await conn.execute(
        update(message)
        .where(message.c.learner_id == learner_id)
        .values(to_address=None, subject=None, facts={}, last_error=None)
    )
    if found is not None:
        await erase_address(conn, found.email)


async def erase_address(conn: AsyncConnection, email: str) -> None:
    await conn.execute(delete(interest).where(func.lower(interest.c.email) == email.lower()))
    await conn.execute(
        delete(message).where(
            func.lower(message.c.to_address) == email.lower(), message.c.sent_at.is_(None)
        )
    )
    await conn.execute(
        update(message)
        .where(func.lower(message.c.to_address) == email.lower())
        .values(to_address=None, subject=None, facts={}, last_error=None)
    )


# -- read models ----------------------------------------------------------------------


async def save_micro_credential(
    conn: AsyncConnection, item_id: UUID, *, version: int, code: str, title: str, language: str
) -> None:
    values = {"version": version, "code": code, "title": title, "language": language}
    await conn.execute(
        insert(micro_credential)
        .values(id=item_id, **values)
        .on_conflict_do_update(
            index_elements=["id"], set_=values, where=micro_credential.c.version <= version
        )
    )


async def micro_credential_by_code(conn: AsyncConnection, code: str) -> Any:
    return (
        await conn.execute(select(micro_credential).where(micro_credential.c.code == code))
    ).first()


async def save_stack(
    conn: AsyncConnection,
    stack_id: UUID,
    *,
    version: int,
    title: str,
    members: Sequence[UUID],
    required_count: int,
    language: str,
) -> None:
    values = {
        "language": language,
        "version": version,
        "title": title,
        "members": [str(m) for m in members],
        "required_count": required_count,
    }
    await conn.execute(
        insert(stack)
        .values(id=stack_id, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values, where=stack.c.version <= version)
    )


async def save_offering(conn: AsyncConnection, offering_id: UUID, **values: Any) -> None:
    await conn.execute(
        insert(offering)
        .values(id=offering_id, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def reschedule_offering(conn: AsyncConnection, offering_id: UUID, **values: Any) -> None:
    await conn.execute(update(offering).where(offering.c.id == offering_id).values(**values))


async def offering_of(conn: AsyncConnection, offering_id: UUID) -> Any:
    return (await conn.execute(select(offering).where(offering.c.id == offering_id))).first()


@dataclass(frozen=True)
class EnrolmentFacts:
    id: UUID
    learner_id: UUID
    offering_id: UUID
    micro_credential_id: UUID
    stage: Stage


async def save_enrolment(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    learner_id: UUID,
    offering_id: UUID,
    micro_credential_id: UUID,
    at: datetime,
) -> None:
    await conn.execute(
        insert(enrolment)
        .values(
            id=enrolment_id,
            learner_id=learner_id,
            offering_id=offering_id,
            micro_credential_id=micro_credential_id,
            stage=Stage.REQUESTED,
            requested_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing()
    )


async def enrolment_of(conn: AsyncConnection, enrolment_id: UUID) -> EnrolmentFacts | None:
    row = (await conn.execute(select(enrolment).where(enrolment.c.id == enrolment_id))).first()
    if row is None:
        return None
    return EnrolmentFacts(
        row.id, row.learner_id, row.offering_id, row.micro_credential_id, Stage(row.stage)
    )


async def set_stage(
    conn: AsyncConnection,
    enrolment_id: UUID,
    stage: Stage,
    *,
    at: datetime,
    offer_expires_at: datetime | None = None,
    offering_id: UUID | None = None,
) -> None:
    values: dict[str, Any] = {
        "stage": stage,
        "updated_at": at,
        "offer_expires_at": offer_expires_at,
    }
    if offering_id is not None:
        values["offering_id"] = offering_id
    await conn.execute(update(enrolment).where(enrolment.c.id == enrolment_id).values(**values))


async def set_result(conn: AsyncConnection, enrolment_id: UUID, result: str) -> None:
    await conn.execute(
        update(enrolment).where(enrolment.c.id == enrolment_id).values(result=result)
    )


async def active_learners_of(conn: AsyncConnection, offering_id: UUID) -> list[tuple[UUID, UUID]]:
    """(enrolment, learner) of the offering's enrolments that are not cancelled or withdrawn."""
    rows = await conn.execute(
        select(enrolment.c.id, enrolment.c.learner_id).where(
            enrolment.c.offering_id == offering_id,
            enrolment.c.stage.not_in([Stage.CANCELLED, Stage.WITHDRAWN]),
        )
    )
    return [(r.id, r.learner_id) for r in rows]


async def save_credential(conn: AsyncConnection, credential_id: UUID, **values: Any) -> None:
    await conn.execute(
        insert(credential)
        .values(id=credential_id, status=CredentialStatus.ACTIVE, **values)
        .on_conflict_do_nothing()
    )


async def credential_of(conn: AsyncConnection, credential_id: UUID) -> Any:
    return (await conn.execute(select(credential).where(credential.c.id == credential_id))).first()


async def set_credential_status(
    conn: AsyncConnection, credential_id: UUID, status: CredentialStatus
) -> None:
    await conn.execute(
        update(credential).where(credential.c.id == credential_id).values(status=status)
    )


async def titles(
    conn: AsyncConnection,
    *,
    offering_id: UUID | None = None,
    micro_credential_id: UUID | None = None,
    stack_id: UUID | None = None,
) -> tuple[str | None, str | None]:
    """(title, language of instruction) of what a message is about, if known yet."""
    if stack_id is not None:
        row = (
            await conn.execute(
                select(stack.c.title, stack.c.language).where(stack.c.id == stack_id)
            )
        ).first()
        return (None, None) if row is None else (row.title, row.language)
    if offering_id is not None:
        found = await offering_of(conn, offering_id)
        if found is not None:
            return found.title, found.language
    if micro_credential_id is not None:
        row = (
            await conn.execute(
                select(micro_credential.c.title, micro_credential.c.language).where(
                    micro_credential.c.id == micro_credential_id
                )
            )
        ).first()
        if row is not None:
            return row.title, row.language
    return None, None


# -- interest -------------------------------------------------------------------------


async def register_interest(
    conn: AsyncConnection,
    micro_credential_id: UUID,
    *,
    email: str,
    language: str | None,
    token: str,
    at: datetime,
) -> tuple[UUID, str, bool]:
    """(id, token, already confirmed) of the registration, new or renewed. Renewing one
    that was unsubscribed needs a new confirmation (consent is never revived silently)."""
    unsubscribed = interest.c.unsubscribed_at.is_not(None)
    row = (
        await conn.execute(
            insert(interest)
            .values(
                id=uuid4(),
                micro_credential_id=micro_credential_id,
                email=email,
                language=language,
                token=token,
                registered_at=at,
            )
            .on_conflict_do_update(
                index_elements=["micro_credential_id", "email"],
                set_={
                    "language": language,
                    "registered_at": at,
                    "confirmed_at": case((unsubscribed, None), else_=interest.c.confirmed_at),
                    "unsubscribed_at": None,
                },
            )
            .returning(interest.c.id, interest.c.token, interest.c.confirmed_at)
        )
    ).one()
    return row.id, row.token, row.confirmed_at is not None


async def interest_by_token(conn: AsyncConnection, token: str) -> Any:
    return (await conn.execute(select(interest).where(interest.c.token == token))).first()


async def confirm_interest(conn: AsyncConnection, token: str, at: datetime) -> None:
    await conn.execute(
        update(interest)
        .where(interest.c.token == token, interest.c.confirmed_at.is_(None))
        .values(confirmed_at=at)
    )


async def unsubscribe_interest(conn: AsyncConnection, token: str, at: datetime) -> None:
    await conn.execute(
        update(interest)
        .where(interest.c.token == token, interest.c.unsubscribed_at.is_(None))
        .values(unsubscribed_at=at)
    )


async def consenting_interests(conn: AsyncConnection, micro_credential_id: UUID) -> list[Any]:
    """Registrations confirmed and not unsubscribed, earliest first."""
    rows = await conn.execute(
        select(interest)
        .where(
            interest.c.micro_credential_id == micro_credential_id,
            interest.c.confirmed_at.is_not(None),
            interest.c.unsubscribed_at.is_(None),
        )
        .order_by(interest.c.registered_at, interest.c.id)
    )
    return list(rows)


# -- messages -------------------------------------------------------------------------


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


async def code_of(conn: AsyncConnection, micro_credential_id: UUID) -> str | None:
    return await conn.scalar(
        select(micro_credential.c.code).where(micro_credential.c.id == micro_credential_id)
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


# -- the learner page -----------------------------------------------------------------


async def enrolments_of(conn: AsyncConnection, learner_id: UUID) -> list[Any]:
    rows = await conn.execute(
        select(
            enrolment,
            offering.c.title,
            offering.c.starts_on,
            offering.c.ends_on,
            offering.c.language,
            offering.c.time_zone,
        )
        .select_from(enrolment.outerjoin(offering, offering.c.id == enrolment.c.offering_id))
        .where(enrolment.c.learner_id == learner_id)
        .order_by(enrolment.c.requested_at.desc())
    )
    return list(rows)


async def credentials_of(conn: AsyncConnection, learner_id: UUID) -> list[Any]:
    rows = await conn.execute(
        select(
            credential,
            func.coalesce(stack.c.title, micro_credential.c.title).label("title"),
            micro_credential.c.language,
        )
        .select_from(
            credential.outerjoin(
                micro_credential, micro_credential.c.id == credential.c.micro_credential_id
            ).outerjoin(stack, stack.c.id == credential.c.stack_id)
        )
        .where(credential.c.learner_id == learner_id)
        .order_by(credential.c.issued_at.desc())
    )
    return list(rows)


async def stacks_with_any(conn: AsyncConnection, member_ids: Sequence[UUID]) -> list[Any]:
    if not member_ids:
        return []
    wanted = [str(m) for m in member_ids]
    rows = await conn.execute(select(stack).where(stack.c.members.has_any(array(wanted))))
    return list(rows)


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
