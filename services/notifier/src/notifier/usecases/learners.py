"""A learner's own choices (language, reminders), erasure, and what their page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.compose import shipped_languages
from notifier.domain import (
    StackDefinition,
    StackProgress,
    UnsupportedLanguage,
    held_micro_credentials,
    stack_progress,
)
from notifier.repository import catalogue, contacts, credentials, enrolments


async def choose(
    conn: AsyncConnection, learner_id: UUID, chosen: contacts.Preferences, at: datetime
) -> contacts.Preferences:
    if chosen.language is not None and chosen.language not in shipped_languages():
        raise UnsupportedLanguage(
            f"Messages are written in {', '.join(sorted(shipped_languages()))}.",
            language=chosen.language,
        )
    await contacts.save_preferences(conn, learner_id, chosen, at)
    return chosen


async def erase(conn: AsyncConnection, learner_id: UUID) -> None:
    await contacts.erase_learner(conn, learner_id)


@dataclass(frozen=True)
class LearnerPage:
    contact: contacts.Contact | None
    preferences: contacts.Preferences
    enrolments: list[Any]
    credentials: list[Any]
    stacks: list[StackProgress]


async def stacks_of(
    conn: AsyncConnection, learner_id: UUID, held_credentials: list[Any] | None = None
) -> list[StackProgress]:
    """The learner's progress towards every stack they have begun and not completed:
    what their page shows and the stack progress message tells."""
    if held_credentials is None:
        held_credentials = await credentials.credentials_of(conn, learner_id)
    held = held_micro_credentials(
        (c.kind, c.status, c.micro_credential_id) for c in held_credentials
    )
    completed = {c.stack_id for c in held_credentials if c.stack_id is not None}
    known = [
        StackDefinition(s.id, s.title, frozenset(UUID(m) for m in s.members), s.required_count)
        for s in await catalogue.stacks_with_any(conn, sorted(held))
    ]
    return stack_progress(held, known, completed)


async def page(conn: AsyncConnection, learner_id: UUID) -> LearnerPage:
    held_credentials = await credentials.credentials_of(conn, learner_id)
    return LearnerPage(
        contact=await contacts.contact_of(conn, learner_id),
        preferences=await contacts.preferences_of(conn, learner_id),
        enrolments=await enrolments.enrolments_of(conn, learner_id),
        credentials=held_credentials,
        stacks=await stacks_of(conn, learner_id, held_credentials),
    )
