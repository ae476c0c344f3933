"""Read model of learners' credentials: their status, their expiry, and the wallet claim
offered for each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import String, and_, cast, exists, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.domain import CredentialStatus, Kind
from notifier.tables import (
    credential,
    message,
    micro_credential,
    preference,
    stack,
    wallet_claim,
)


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


# -- expiry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expiring:
    """A credential whose expiry reminder may be due, with the learner's choice."""

    id: UUID
    learner_id: UUID
    micro_credential_id: UUID | None
    url: str
    status: CredentialStatus
    valid_until: datetime
    reminders: bool


def expiry_reminder_key(credential_id: UUID) -> str:
    """The reminder's dedup key: once per credential."""
    return f"{Kind.CREDENTIAL_EXPIRING}:{credential_id}"


async def expiring(conn: AsyncConnection, *, after: datetime, until: datetime) -> list[Expiring]:
    """Active credentials valid until a moment in (``after``, ``until``] whose reminder was
    never staged, with the learner's `reminders` choice (on unless they turned it off)."""
    reminders = func.coalesce(preference.c.reminders, true())
    staged = exists().where(
        message.c.dedup_key
        == func.concat(f"{Kind.CREDENTIAL_EXPIRING}:", cast(credential.c.id, String))
    )
    rows = await conn.execute(
        select(credential, reminders.label("reminders"))
        .select_from(
            credential.outerjoin(preference, preference.c.learner_id == credential.c.learner_id)
        )
        .where(
            and_(credential.c.valid_until > after, credential.c.valid_until <= until),
            credential.c.status == CredentialStatus.ACTIVE,
            ~staged,
        )
        .order_by(credential.c.valid_until, credential.c.id)
    )
    return [
        Expiring(
            r.id,
            r.learner_id,
            r.micro_credential_id,
            r.url,
            CredentialStatus(r.status),
            r.valid_until,
            r.reminders,
        )
        for r in rows
    ]


# -- wallet claims ----------------------------------------------------------------------


@dataclass(frozen=True)
class WalletClaim:
    page_url: str
    credential_offer: str
    expires_at: datetime


async def save_wallet_claim(conn: AsyncConnection, credential_id: UUID, **values: Any) -> None:
    await conn.execute(
        insert(wallet_claim)
        .values(credential_id=credential_id, **values)
        .on_conflict_do_update(index_elements=["credential_id"], set_=values)
    )


async def wallet_claim_of(conn: AsyncConnection, credential_id: UUID) -> WalletClaim | None:
    row = (
        await conn.execute(
            select(wallet_claim).where(wallet_claim.c.credential_id == credential_id)
        )
    ).first()
    return None if row is None else WalletClaim(row.page_url, row.credential_offer, row.expires_at)
