"""Reminders on a timer: "your credential expires soon", staged from ``days_before`` days
before a credential's `validUntil`, once per credential, for active credentials of
learners who keep reminders on. Every replica may run the loop: the dedup key makes a
reminder once, whoever stages it."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now
from notifier.domain import Kind, expiry_reminder_due, expiry_window
from notifier.repository import credentials, email_outbox


async def stage_expiry_reminders(conn: AsyncConnection, *, at: datetime, days_before: int) -> int:
    """Stage the reminders due at ``at``; how many were new."""
    start, end = expiry_window(at, days_before)
    staged = 0
    for found in await credentials.expiring(conn, after=start, until=end):
        if not expiry_reminder_due(
            found.valid_until,
            found.status,
            reminders=found.reminders,
            at=at,
            days_before=days_before,
        ):
            continue
        facts = {
            "credential_id": str(found.id),
            "url": found.url,
            "valid_until": found.valid_until.isoformat(),
        }
        if found.micro_credential_id is not None:
            facts["micro_credential_id"] = str(found.micro_credential_id)
        if await email_outbox.stage_message(
            conn,
            Kind.CREDENTIAL_EXPIRING,
            credentials.expiry_reminder_key(found.id),
            facts,
            at=at,
            learner_id=found.learner_id,
        ):
            staged += 1
    return staged


async def reminder_loop(engine: AsyncEngine, *, days_before: int, poll_seconds: float) -> None:
    while True:
        async with engine.begin() as conn:
            await stage_expiry_reminders(conn, at=now(), days_before=days_before)
        await asyncio.sleep(poll_seconds)
