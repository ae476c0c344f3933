"""Interest registrations: double opt-in and unsubscribe."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.tables import (
    interest,
)


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
