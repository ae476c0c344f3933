"""The catalogue's changes to an offering that change its enrolments too."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.catalogue import OfferingCancelled, OfferingRescheduled
from credstack.contracts.envelope import Received
from enrolment import repository
from enrolment.domain import OfferingStatus
from enrolment.tables import offering
from enrolment.usecases.transitions import Policy, decided, fill_from_waitlist, transition


async def rescheduled(
    conn: AsyncConnection, event: OfferingRescheduled, received: Received, *, policy: Policy
) -> None:
    """New dates or capacity; more capacity means seats for the waitlist."""
    if await repository.get_offering(conn, event.offering_id, for_update=True) is None:
        return
    await conn.execute(
        update(offering)
        .where(offering.c.id == event.offering_id)
        .values(
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            enrolment_opens_at=event.enrolment_opens_at,
            enrolment_closes_at=event.enrolment_closes_at,
            capacity=event.capacity,
        )
    )
    changed = await repository.get_offering(conn, event.offering_id)
    if changed is not None:
        await fill_from_waitlist(conn, changed, policy=policy, now=received.time)


async def cancelled(conn: AsyncConnection, event: OfferingCancelled, received: Received) -> None:
    """Every active enrolment is cancelled; money received is due back."""
    if await repository.get_offering(conn, event.offering_id, for_update=True) is None:
        return
    await conn.execute(
        update(offering)
        .where(offering.c.id == event.offering_id)
        .values(status=OfferingStatus.CANCELLED.value)
    )
    now = received.time
    for enrolment_id in await repository.in_active_offering(conn, event.offering_id):
        await transition(
            conn,
            enrolment_id,
            lambda item: decided(item.offering_cancelled(reason=event.reason, at=now)),
            now=now,
            with_learner=False,
        )
