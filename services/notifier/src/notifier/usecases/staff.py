"""Staff: what was sent, what failed and why; resending a message."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.domain import Kind, UnknownMessage
from notifier.repository import email_outbox


async def resend(conn: AsyncConnection, message_id: UUID, at: datetime) -> UUID:
    """A new message with the same facts and recipient (a new Message-ID: the learner
    gets it again, deliberately). A failed or pending message may be resent too."""
    original = await email_outbox.message_of(conn, message_id)
    if original is None:
        raise UnknownMessage(f"No message has the id {message_id}.")
    if original.learner_id is None and original.to_address is None:
        raise UnknownMessage("This message's recipient was erased.", message_id=str(message_id))
    count = await email_outbox.count_resends(conn, message_id)
    new_id = await email_outbox.stage_message(
        conn,
        Kind(original.kind),
        f"resend:{message_id}:{count + 1}",
        original.facts,
        at=at,
        learner_id=original.learner_id,
        to_address=original.to_address if original.learner_id is None else None,
        language=original.language if original.learner_id is None else None,
        resend_of=message_id,
    )
    assert new_id is not None
    return new_id
