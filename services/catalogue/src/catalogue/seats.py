"""Seats taken in each offering, kept from the enrolment service's events (the catalogue
imports no other service): an enrolment takes a seat when it is confirmed and gives it back
when it is cancelled or withdrawn; a transfer moves it. Each handler runs once per event
(the inbox) and sets the enrolment's row rather than counting, so a redelivered event
changes nothing. Seats held for a payment in progress are not announced and not counted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue.tables import enrolment_seat, offering
from credstack.contracts.enrolment import (
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
)
from credstack.contracts.envelope import Received


async def enrolment_confirmed(
    conn: AsyncConnection, event: EnrolmentConfirmed, received: Received
) -> None:
    await conn.execute(
        insert(enrolment_seat)
        .values(enrolment_id=event.enrolment_id, offering_id=event.offering_id)
        .on_conflict_do_update(
            index_elements=[enrolment_seat.c.enrolment_id],
            set_={"offering_id": event.offering_id},
        )
    )


async def enrolment_released(
    conn: AsyncConnection, event: EnrolmentCancelled | EnrolmentWithdrawn, received: Received
) -> None:
    await conn.execute(
        delete(enrolment_seat).where(enrolment_seat.c.enrolment_id == event.enrolment_id)
    )


async def enrolment_transferred(
    conn: AsyncConnection, event: EnrolmentTransferred, received: Received
) -> None:
    """A confirmed enrolment moves its seat; one not confirmed yet takes none."""
    await conn.execute(
        update(enrolment_seat)
        .where(enrolment_seat.c.enrolment_id == event.enrolment_id)
        .values(offering_id=event.to_offering_id)
    )


def seats_left() -> Any:
    """The offering's capacity less its seats taken, never below 0 (a column expression)."""
    taken = (
        select(func.count()).where(enrolment_seat.c.offering_id == offering.c.id).scalar_subquery()
    )
    return func.greatest(offering.c.capacity - taken, 0)
