"""Wallet claims: offers, their codes and access tokens, and the copies claimed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from issuer.tables import (
    claim,
)
from issuer.wallet_claims import Claim, Protocol


def _claim(row: Any) -> Claim:
    return Claim(
        id=row.id,
        credential_id=row.credential_id,
        learner_id=row.learner_id,
        expires_at=row.expires_at,
        claimed_at=row.claimed_at,
        challenge=row.challenge,
        holder_did=row.holder_did,
        protocol=Protocol(row.protocol) if row.protocol else None,
        pin_hash=row.pin_hash,
    )


async def add_claim(conn: AsyncConnection, offer: Claim, code_hash: str, *, at: datetime) -> None:
    await conn.execute(
        insert(claim).values(
            id=offer.id,
            code_hash=code_hash,
            credential_id=offer.credential_id,
            learner_id=offer.learner_id,
            created_at=at,
            expires_at=offer.expires_at,
            pin_hash=offer.pin_hash,
        )
    )


async def claim_by_code(conn: AsyncConnection, code_hash: str) -> Claim | None:
    """The claim of this code, locked: one wallet at a time."""
    row = (
        await conn.execute(select(claim).where(claim.c.code_hash == code_hash).with_for_update())
    ).first()
    return None if row is None else _claim(row)


async def save_claim(
    conn: AsyncConnection, taken: Claim, *, copy: dict[str, Any] | None = None
) -> None:
    values: dict[str, Any] = {
        "challenge": taken.challenge,
        "claimed_at": taken.claimed_at,
        "protocol": taken.protocol,
        "holder_did": taken.holder_did,
    }
    if copy is not None:
        values["copy"] = copy
    await conn.execute(update(claim).where(claim.c.id == taken.id).values(**values))


async def claimed_copies(conn: AsyncConnection, credential_id: UUID) -> list[dict[str, Any]]:
    """Every copy of a credential claimed into a wallet, oldest first."""
    rows = await conn.execute(
        select(claim.c.copy)
        .where(claim.c.credential_id == credential_id, claim.c.copy.is_not(None))
        .order_by(claim.c.claimed_at)
    )
    return [copy for (copy,) in rows]


async def grant_claim_access(
    conn: AsyncConnection, claim_id: UUID, token_hash: str, *, expires_at: datetime
) -> None:
    await conn.execute(
        update(claim)
        .where(claim.c.id == claim_id)
        .values(access_token_hash=token_hash, access_expires_at=expires_at)
    )


async def claim_by_access_token(
    conn: AsyncConnection, token_hash: str, *, at: datetime
) -> Claim | None:
    """The claim an unexpired access token was granted for, locked."""
    row = (
        await conn.execute(
            select(claim)
            .where(claim.c.access_token_hash == token_hash, claim.c.access_expires_at > at)
            .with_for_update()
        )
    ).first()
    return None if row is None else _claim(row)
