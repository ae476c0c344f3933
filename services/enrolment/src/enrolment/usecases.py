"""Enrolment use cases: load, decide, stage events. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.catalogue import OfferingScheduled
from credstack.contracts.envelope import Received
from enrolment import repository
from enrolment.domain import Enrolment, EnrolmentError
from enrolment.tables import enrolment, offering, outbox, payment_event


class NotFound(EnrolmentError):
    pass


async def enrol(
    conn: AsyncConnection,
    *,
    learner_id: UUID,
    learner_subject: str,
    learner_name: str,
    email: str,
    offering_id: UUID,
    now: datetime,
) -> Enrolment:
    target = await repository.offering_for_update(conn, offering_id)
    if target is None:
        raise NotFound(f"No offering {offering_id} is open for enrolment.")
    new, requested = Enrolment.request(
        enrolment_id=uuid4(),
        learner_id=learner_id,
        learner_name=learner_name,
        email=email,
        offering=target,
        seats_taken=await repository.seats_taken(conn, offering_id),
        at=now,
    )
    await conn.execute(
        enrolment.insert().values(
            id=new.id,
            learner_id=learner_id,
            learner_subject=learner_subject,
            learner_name=learner_name,
            email=email,
            offering_id=offering_id,
            status=new.status.value,
            fee_cents=new.fee_cents,
            created_at=now,
        )
    )
    await outbox.add(conn, requested, now=now)
    if not new.payment_due:
        await _confirm(conn, new, now=now)
    return new


async def _confirm(conn: AsyncConnection, target: Enrolment, *, now: datetime) -> None:
    confirmed = target.confirm(now)
    if confirmed is None:
        return
    await conn.execute(
        update(enrolment)
        .where(enrolment.c.id == target.id)
        .values(status=target.status.value, confirmed_at=now)
    )
    await outbox.add(conn, confirmed, now=now)


async def record_payment(
    conn: AsyncConnection,
    *,
    provider_event_id: str,
    provider_event_type: str,
    enrolment_id: UUID,
    paid: bool,
    now: datetime,
) -> bool:
    """Apply one provider event once; False when the event was already applied."""
    claimed = await conn.execute(
        insert(payment_event)
        .values(
            id=provider_event_id,
            type=provider_event_type,
            enrolment_id=enrolment_id,
            received_at=now,
        )
        .on_conflict_do_nothing()
        .returning(payment_event.c.id)
    )
    if claimed.first() is None:
        return False
    target = await repository.get(conn, enrolment_id, for_update=True)
    if target is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    if paid:
        await _confirm(conn, target, now=now)
    return True


async def offering_scheduled(
    conn: AsyncConnection, event: OfferingScheduled, received: Received
) -> None:
    values = {
        "micro_credential_id": event.micro_credential_id,
        "micro_credential_version": event.micro_credential_version,
        "code": event.code,
        "title": event.title,
        "starts_on": event.starts_on,
        "enrolment_opens_at": event.enrolment_opens_at,
        "enrolment_closes_at": event.enrolment_closes_at,
        "capacity": event.capacity,
        "fee_cents": event.fee_cents,
        "currency": event.currency,
        "status": "scheduled",
    }
    statement = insert(offering).values(id=event.offering_id, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))
