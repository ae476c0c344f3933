"""Bitstring status lists: places in them, their signed documents, and VC-API copies' status."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from issuer.domain import Status
from issuer.tables import (
    credential,
    status_entry,
    status_list,
    status_list_credential,
    vcapi_credential,
)

#: Random draws in the newest list before another list is opened (a list is then, with
#: overwhelming likelihood, more than half full).
INDEX_ATTEMPTS = 16


async def open_status_list(conn: AsyncConnection, number: int, *, now: datetime) -> bool:
    """Create list ``number``; False when another transaction already did."""
    created = await conn.execute(
        insert(status_list)
        .values(number=number, created_at=now)
        .on_conflict_do_nothing()
        .returning(status_list.c.number)
    )
    return created.first() is not None


async def newest_status_list(conn: AsyncConnection) -> int | None:
    number: int | None = await conn.scalar(select(func.max(status_list.c.number)))
    return number


async def claim_status_index(
    conn: AsyncConnection, number: int, index: int, credential_id: UUID
) -> bool:
    claimed = await conn.execute(
        insert(status_entry)
        .values(list_number=number, index=index, credential_id=credential_id)
        .on_conflict_do_nothing(index_elements=["list_number", "index"])
        .returning(status_entry.c.index)
    )
    return claimed.first() is not None


@dataclass(frozen=True)
class StatusPlace:
    """Where a credential's bits are: list ``list_number``, bit ``index``."""

    list_number: int
    index: int


async def status_of(conn: AsyncConnection, credential_id: UUID) -> StatusPlace | None:
    row = (
        await conn.execute(
            select(status_entry.c.list_number, status_entry.c.index).where(
                status_entry.c.credential_id == credential_id
            )
        )
    ).first()
    return None if row is None else StatusPlace(row.list_number, row._mapping["index"])


async def indexes_with_status(
    conn: AsyncConnection, number: int, statuses: Collection[Status]
) -> list[int]:
    wanted = [str(s) for s in statuses]
    ours = (
        select(status_entry.c.index)
        .join(credential, credential.c.id == status_entry.c.credential_id)
        .where(status_entry.c.list_number == number, credential.c.status.in_(wanted))
    )
    through_vcapi = (
        select(status_entry.c.index)
        .join(vcapi_credential, vcapi_credential.c.id == status_entry.c.credential_id)
        .where(status_entry.c.list_number == number, vcapi_credential.c.status.in_(wanted))
    )
    rows = await conn.execute(ours.union_all(through_vcapi))
    return [index for (index,) in rows]


async def lock_status_list(conn: AsyncConnection, number: int) -> None:
    """Serialise re-signing one list: the second writer signs after seeing the first's bit."""
    await conn.execute(
        select(status_list.c.number).where(status_list.c.number == number).with_for_update()
    )


async def save_status_list_credential(
    conn: AsyncConnection, number: int, purpose: str, document: dict[str, Any], *, now: datetime
) -> None:
    statement = insert(status_list_credential).values(
        list_number=number, purpose=purpose, document=document, signed_at=now
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["list_number", "purpose"],
            set_={"document": statement.excluded.document, "signed_at": now},
        )
    )


async def status_list_document(
    conn: AsyncConnection, number: int, purpose: str
) -> dict[str, Any] | None:
    document: dict[str, Any] | None = await conn.scalar(
        select(status_list_credential.c.document).where(
            status_list_credential.c.list_number == number,
            status_list_credential.c.purpose == purpose,
        )
    )
    return document


async def status_list_documents(conn: AsyncConnection, number: int) -> dict[str, dict[str, Any]]:
    """Both signed documents of list ``number`` (by purpose), in one round trip."""
    rows = await conn.execute(
        select(status_list_credential.c.purpose, status_list_credential.c.document).where(
            status_list_credential.c.list_number == number
        )
    )
    return {purpose: document for purpose, document in rows}


async def save_vcapi_credential(
    conn: AsyncConnection, credential_id: UUID, document: dict[str, Any], *, by: str, at: datetime
) -> None:
    await conn.execute(
        insert(vcapi_credential).values(
            id=credential_id, document=document, issued_at=at, issued_by=by, status="active"
        )
    )


async def vcapi_credential_by_id(
    conn: AsyncConnection, credential_id: UUID, *, for_update: bool = False
) -> tuple[dict[str, Any], str] | None:
    """A VC-API credential's document and status."""
    query = select(vcapi_credential.c.document, vcapi_credential.c.status).where(
        vcapi_credential.c.id == credential_id
    )
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else (row.document, row.status)


async def save_vcapi_status(
    conn: AsyncConnection, credential_id: UUID, status: str, *, at: datetime
) -> None:
    await conn.execute(
        update(vcapi_credential)
        .where(vcapi_credential.c.id == credential_id)
        .values(status=status, status_changed_at=at)
    )
