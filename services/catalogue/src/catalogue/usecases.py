"""Catalogue use cases: load, decide, stage the events. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue import repository
from catalogue.domain import CatalogueError, MicroCredential, OfferingPlan, schedule_offering
from catalogue.tables import offering, outbox


class NotFound(CatalogueError):
    pass


class DuplicateCode(CatalogueError):
    pass


async def propose(conn: AsyncConnection, draft: MicroCredential, *, now: datetime) -> None:
    if await repository.code_taken(conn, draft.code):
        raise DuplicateCode(f"A micro-credential with code {draft.code} already exists.")
    await repository.save(conn, draft, now=now)


async def _load(conn: AsyncConnection, item_id: UUID) -> MicroCredential:
    item = await repository.get(conn, item_id, for_update=True)
    if item is None:
        raise NotFound(f"No micro-credential {item_id}.")
    return item


async def submit(conn: AsyncConnection, item_id: UUID, *, now: datetime) -> MicroCredential:
    item = await _load(conn, item_id)
    item.submit()
    await repository.save(conn, item, now=now)
    return item


async def approve(
    conn: AsyncConnection, item_id: UUID, *, approver: str, now: datetime
) -> MicroCredential:
    item = await _load(conn, item_id)
    item.approve(approver)
    await repository.save(conn, item, now=now)
    return item


async def publish(conn: AsyncConnection, item_id: UUID, *, now: datetime) -> MicroCredential:
    item = await _load(conn, item_id)
    event = item.publish(at=now)
    await repository.save(conn, item, now=now)
    await outbox.add(conn, event, now=now)
    return item


async def schedule(
    conn: AsyncConnection, item_id: UUID, version: int | None, plan: OfferingPlan, *, now: datetime
) -> UUID:
    item = await repository.get(conn, item_id, version)
    if item is None:
        raise NotFound(f"No micro-credential {item_id}.")
    event = schedule_offering(item, uuid4(), plan)
    await conn.execute(
        offering.insert().values(
            id=event.offering_id,
            micro_credential_id=event.micro_credential_id,
            micro_credential_version=event.micro_credential_version,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            enrolment_opens_at=event.enrolment_opens_at,
            enrolment_closes_at=event.enrolment_closes_at,
            capacity=event.capacity,
            delivery_mode=event.delivery_mode,
            time_zone=event.time_zone,
            fee_cents=event.fee_cents,
            lms_course_ref=event.lms_course_ref,
            status="scheduled",
            created_at=now,
        )
    )
    await outbox.add(conn, event, now=now)
    return event.offering_id
