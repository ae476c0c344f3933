"""What the reconciler reads of the catalogue, and the repair it asks for: every published
version, stack and offering (keyset pages), and one of them announced again.

A re-announcement stages the event that tells the item's current state, with a new event
id, through the outbox in the caller's transaction; it changes nothing here. Consumers
apply it as they applied the first (they keep versions and offerings by id), so a
repeated re-announcement adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue import repository
from catalogue.domain import OfferingStatus, Status
from catalogue.domain.micro_credentials import PUBLISHED_ONCE
from catalogue.tables import micro_credential, offering, outbox, stack
from catalogue.usecases import NotFound


@dataclass(frozen=True)
class PublishedVersion:
    micro_credential_id: UUID
    version: int
    code: str
    status: Status


@dataclass(frozen=True)
class PublishedStack:
    stack_id: UUID
    version: int
    code: str


@dataclass(frozen=True)
class ListedOffering:
    offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    status: OfferingStatus


async def published_versions(
    conn: AsyncConnection, *, after: tuple[UUID, int] | None, limit: int
) -> list[PublishedVersion]:
    """Every version ever published (superseded and disestablished ones too: offerings and
    credentials still point to them), in (id, version) order."""
    t = micro_credential
    query = (
        select(t.c.id, t.c.version, t.c.code, t.c.status)
        .where(t.c.status.in_([s.value for s in PUBLISHED_ONCE]))
        .order_by(t.c.id, t.c.version)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(t.c.id, t.c.version) > tuple_(*after))
    rows = await conn.execute(query)
    return [PublishedVersion(r.id, r.version, r.code, Status(r.status)) for r in rows]


async def published_stacks(
    conn: AsyncConnection, *, after: UUID | None, limit: int
) -> list[PublishedStack]:
    query = (
        select(stack.c.id, stack.c.version, stack.c.code)
        .where(stack.c.status == Status.PUBLISHED.value)
        .order_by(stack.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(stack.c.id > after)
    return [PublishedStack(r.id, r.version, r.code) for r in await conn.execute(query)]


async def offerings(
    conn: AsyncConnection, *, after: UUID | None, limit: int
) -> list[ListedOffering]:
    """Every offering, scheduled or cancelled, in id order."""
    t = offering
    query = (
        select(t.c.id, t.c.micro_credential_id, t.c.micro_credential_version, t.c.status)
        .order_by(t.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(t.c.id > after)
    return [
        ListedOffering(
            r.id, r.micro_credential_id, r.micro_credential_version, OfferingStatus(r.status)
        )
        for r in await conn.execute(query)
    ]


async def reannounce_version(
    conn: AsyncConnection, item_id: UUID, version: int, *, now: datetime
) -> list[str]:
    """Stage the version's MicroCredentialPublished again; its type. 409 `wrong-status`
    for a version never published."""
    item = await repository.get(conn, item_id, version)
    if item is None:
        raise NotFound(f"No micro-credential {item_id} version {version}.")
    event = item.reannouncement(stacks=await repository.stacks_of(conn, item_id))
    await outbox.add(conn, event, now=now)
    return [event.type_name()]


async def reannounce_stack(conn: AsyncConnection, stack_id: UUID, *, now: datetime) -> list[str]:
    """Stage the published stack's StackPublished again; its type."""
    found = await repository.get_stack(conn, stack_id)
    if found is None:
        raise NotFound(f"No stack {stack_id}.")
    event = found.reannouncement()
    await outbox.add(conn, event, now=now)
    return [event.type_name()]


async def reannounce_offering(
    conn: AsyncConnection, offering_id: UUID, *, now: datetime
) -> list[str]:
    """Stage the offering's OfferingScheduled again, with its current dates and capacity,
    and, if it was cancelled, an OfferingCancelled after it; their types."""
    found = await repository.get_offering(conn, offering_id)
    if found is None:
        raise NotFound(f"No offering {offering_id}.")
    item = await repository.get(conn, found.micro_credential_id, found.micro_credential_version)
    assert item is not None  # an offering's version exists (a foreign key)
    events = found.reannouncement(item, at=now)
    for event in events:
        await outbox.add(conn, event, now=now)
    return [event.type_name() for event in events]
