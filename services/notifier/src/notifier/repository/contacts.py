"""The learner's contact details and choices, and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.tables import (
    contact,
    interest,
    message,
    preference,
    wallet_claim,
)


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
    await conn.execute(delete(wallet_claim).where(wallet_claim.c.learner_id == learner_id))
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
