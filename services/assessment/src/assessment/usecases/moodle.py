"""Moodle notifications: kept until the grade they announce is fetched and recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.formats import Submission
from assessment.formats.moodle import GradedUser
from assessment.registry import LmsClient
from assessment.tables import moodle_notification
from assessment.usecases.intake import Receipt, receive

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


class NotificationStatus(StrEnum):
    """A kept Moodle notification: its grade is still to be fetched, or was."""

    PENDING = "pending"
    FETCHED = "fetched"


async def notified(
    conn: AsyncConnection, client: LmsClient, graded: GradedUser, *, payload: Any, now: datetime
) -> tuple[int, NotificationStatus]:
    """Keep a user_graded notification (once); returns its id and status.

    Its first retry is due after `FIRST_RETRY`, so that the fetch the webhook request
    makes at once and the retry worker do not both run.
    """
    notification_id = await conn.scalar(
        insert(moodle_notification)
        .values(
            client_id=client.id,
            delivery_id=graded.delivery_id,
            course_id=graded.course_id,
            user_id=graded.user_id,
            item_id=graded.item_id,
            notified_at=graded.notified_at,
            received_at=now,
            payload=payload,
            status=NotificationStatus.PENDING,
            next_attempt_at=now + FIRST_RETRY,
        )
        .on_conflict_do_nothing()
        .returning(moodle_notification.c.id)
    )
    if notification_id is not None:
        return int(notification_id), NotificationStatus.PENDING
    row = (
        await conn.execute(
            select(moodle_notification.c.id, moodle_notification.c.status).where(
                moodle_notification.c.client_id == client.id,
                moodle_notification.c.delivery_id == graded.delivery_id,
            )
        )
    ).one()
    return int(row.id), NotificationStatus(row.status)


async def pending(conn: AsyncConnection, notification_id: int) -> Any:
    """The notification with its client, if its grade is still to be fetched."""
    return (
        await conn.execute(
            select(moodle_notification).where(
                moodle_notification.c.id == notification_id,
                moodle_notification.c.status == NotificationStatus.PENDING,
            )
        )
    ).first()


async def fetched(
    conn: AsyncConnection,
    client: LmsClient,
    notification_id: int,
    submissions: list[Submission],
    *,
    now: datetime,
) -> list[Receipt] | None:
    """Record the fetched grades (the course total first), unless another fetch of the
    same notification did."""
    locked = (
        await conn.execute(
            select(moodle_notification.c.id)
            .where(
                moodle_notification.c.id == notification_id,
                moodle_notification.c.status == NotificationStatus.PENDING,
            )
            .with_for_update()
        )
    ).first()
    if locked is None:
        return None
    receipts = await receive(conn, client, submissions, now=now)
    await conn.execute(
        update(moodle_notification)
        .where(moodle_notification.c.id == notification_id)
        .values(status=NotificationStatus.FETCHED, grade_id=receipts[0].grade_id, last_error=None)
    )
    return receipts


async def fetch_failed(
    conn: AsyncConnection, notification_id: int, error: str, *, now: datetime
) -> None:
    """Try again later, backing off to at most `LONGEST_RETRY` between attempts."""
    attempts = await conn.scalar(
        update(moodle_notification)
        .where(moodle_notification.c.id == notification_id)
        .values(attempts=moodle_notification.c.attempts + 1, last_error=error)
        .returning(moodle_notification.c.attempts)
    )
    delay = min(FIRST_RETRY * 2 ** max(int(attempts or 1) - 1, 0), LONGEST_RETRY)
    await conn.execute(
        update(moodle_notification)
        .where(moodle_notification.c.id == notification_id)
        .values(next_attempt_at=now + delay)
    )


async def due(conn: AsyncConnection, *, now: datetime, limit: int = 20) -> list[int]:
    rows = await conn.execute(
        select(moodle_notification.c.id)
        .where(
            moodle_notification.c.status == NotificationStatus.PENDING,
            moodle_notification.c.next_attempt_at <= now,
        )
        .order_by(moodle_notification.c.next_attempt_at)
        .limit(limit)
    )
    return [int(row.id) for row in rows]
