"""Endorsements of micro-credentials, and the versions of a micro-credential known here."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from issuer.endorsements import Endorsement, Origin
from issuer.tables import achievement, endorsement


def _endorsement(row: Any) -> Endorsement:
    return Endorsement(
        id=row.id,
        micro_credential_id=row.micro_credential_id,
        version=row.version,
        origin=Origin(row.origin),
        endorser_name=row.endorser_name,
        endorser_id=row.endorser_id,
        document=row.document,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        withdrawn_at=row.withdrawn_at,
    )


async def published_versions(conn: AsyncConnection, micro_credential_id: UUID) -> dict[int, str]:
    """Version -> title of each published version of the micro-credential known here."""
    rows = await conn.execute(
        select(achievement.c.version, achievement.c.snapshot["title"].astext).where(
            achievement.c.micro_credential_id == micro_credential_id
        )
    )
    return {version: title for version, title in rows.all()}


async def add_endorsement(conn: AsyncConnection, recorded: Endorsement) -> None:
    await conn.execute(
        endorsement.insert().values(
            id=recorded.id,
            micro_credential_id=recorded.micro_credential_id,
            version=recorded.version,
            origin=recorded.origin.value,
            endorser_name=recorded.endorser_name,
            endorser_id=recorded.endorser_id,
            document=recorded.document,
            recorded_at=recorded.recorded_at,
            recorded_by=recorded.recorded_by,
        )
    )


async def endorsements_of(
    conn: AsyncConnection,
    micro_credential_id: UUID,
    *,
    after: tuple[datetime, UUID] | None = None,
    limit: int | None = None,
    current_only: bool = False,
) -> list[Endorsement]:
    """Oldest first; ``after`` a (recorded_at, id) cursor."""
    query = (
        select(endorsement)
        .where(endorsement.c.micro_credential_id == micro_credential_id)
        .order_by(endorsement.c.recorded_at, endorsement.c.id)
    )
    if current_only:
        query = query.where(endorsement.c.withdrawn_at.is_(None))
    if after is not None:
        query = query.where(
            or_(
                endorsement.c.recorded_at > after[0],
                and_(endorsement.c.recorded_at == after[0], endorsement.c.id > after[1]),
            )
        )
    if limit is not None:
        query = query.limit(limit)
    return [_endorsement(row) for row in (await conn.execute(query)).all()]


async def withdraw_endorsement(
    conn: AsyncConnection, micro_credential_id: UUID, endorsement_id: UUID, *, by: str, at: datetime
) -> Endorsement | None:
    """Mark it withdrawn (once: a second withdrawal keeps the first's time); None if unknown."""
    await conn.execute(
        update(endorsement)
        .where(
            endorsement.c.id == endorsement_id,
            endorsement.c.micro_credential_id == micro_credential_id,
            endorsement.c.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=at, withdrawn_by=by)
    )
    row = (
        await conn.execute(
            select(endorsement).where(
                endorsement.c.id == endorsement_id,
                endorsement.c.micro_credential_id == micro_credential_id,
            )
        )
    ).first()
    return None if row is None else _endorsement(row)


async def endorser_names(conn: AsyncConnection, document_ids: list[str]) -> dict[str, str]:
    """Endorsement credential id -> endorser name, for those recorded here."""
    if not document_ids:
        return {}
    rows = await conn.execute(
        select(endorsement.c.document["id"].as_string(), endorsement.c.endorser_name).where(
            endorsement.c.document["id"].as_string().in_(document_ids)
        )
    )
    return {document_id: name for document_id, name in rows.all()}
