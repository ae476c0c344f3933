"""Staging a message to a learner, once per cause, and what a later event needs to know."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.envelope import Received
from notifier.domain import Kind
from notifier.repository import (
    email_outbox,
    enrolments,
)


async def to_learner(
    conn: AsyncConnection,
    kind: Kind,
    cause: str,
    learner_id: UUID,
    facts: dict[str, Any],
    received: Received,
) -> None:
    await email_outbox.stage_message(
        conn, kind, f"{kind}:{cause}", facts, at=received.time, learner_id=learner_id
    )


async def known_enrolment(
    conn: AsyncConnection, enrolment_id: UUID
) -> enrolments.EnrolmentFacts | None:
    """The enrolment as EnrolmentRequested told it (always earlier on the same key)."""
    return await enrolments.enrolment_of(conn, enrolment_id)
