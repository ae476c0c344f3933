"""Loading, locking and saving enrolments; queries over enrolments and offerings.

What eligibility decides from (learners, the declaration, credentials held) is in `records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from enrolment.domain import (
    ACTIVE,
    SEAT_HOLDING,
    Enrolment,
    Offering,
    OfferingStatus,
    PaymentStatus,
    Status,
)
from enrolment.payments import PaymentNotice
from enrolment.records import lock_learner
from enrolment.tables import (
    enrolment,
    learner,
    micro_credential,
    offering,
)

_OFFERING_COLUMNS = [
    offering.c.id,
    offering.c.micro_credential_id,
    offering.c.micro_credential_version,
    offering.c.code,
    offering.c.title,
    offering.c.starts_on,
    offering.c.enrolment_opens_at,
    offering.c.enrolment_closes_at,
    offering.c.capacity,
    offering.c.fee_cents,
    offering.c.currency,
    offering.c.status,
]

# Enrolment fields kept in columns of the same name; `save` writes the mutable ones.
_MUTABLE = (
    "status",
    "payment_status",
    "hold_expires_at",
    "offer_expires_at",
    "waitlisted_at",
    "checkout_session_id",
    "checkout_url",
    "payment_intent_id",
    "amount_paid_cents",
    "amount_refunded_cents",
    "payment_error",
    "payment_flag",
    "refund_requested_at",
    "confirmed_at",
    "ended_at",
    "end_reason",
)
_FIXED = (
    "id",
    "learner_id",
    "learner_name",
    "email",
    "fee_cents",
    "currency",
    "language_experience",
    "experience_statement",
)


@dataclass(frozen=True)
class RosterLine:
    enrolment: Enrolment
    university_id: str | None


@dataclass(frozen=True)
class DueHold:
    enrolment_id: UUID
    checkout_session_id: str | None


@dataclass(frozen=True)
class StartedCheckout:
    """An enrolment whose checkout started, as it stands here (for reconciliation)."""

    enrolment_id: UUID
    checkout_session_id: str
    status: Status
    payment_status: PaymentStatus


After = tuple[datetime, UUID]
"""Where a page starts: after the enrolment created at this time with this id."""


_JOINED = "o__"
"""The prefix of an enrolment's offering's columns read in the same row (`get`)."""


def _offering(row: Any, prefix: str = "") -> Offering:
    values = {c.name: getattr(row, prefix + c.name) for c in _OFFERING_COLUMNS}
    return Offering(**{**values, "status": OfferingStatus(values["status"])})


def _enrolment(row: Any, target: Offering) -> Enrolment:
    values = {name: getattr(row, name) for name in (*_FIXED, *_MUTABLE)}
    values["status"] = Status(row.status)
    values["payment_status"] = PaymentStatus(row.payment_status)
    return Enrolment(offering=target, requested_at=row.created_at, **values)


async def get_offering(
    conn: AsyncConnection, offering_id: UUID, *, for_update: bool = False
) -> Offering | None:
    """The offering; locked, seat counting under this lock cannot oversell."""
    query = select(*_OFFERING_COLUMNS).where(offering.c.id == offering_id)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return _offering(row) if row else None


async def seats_free(conn: AsyncConnection, target: Offering) -> int:
    taken = await conn.scalar(
        select(func.count())
        .select_from(enrolment)
        .where(
            enrolment.c.offering_id == target.id,
            enrolment.c.status.in_([s.value for s in SEAT_HOLDING]),
        )
    )
    return max(0, target.capacity - int(taken or 0))


async def active_enrolment_of(
    conn: AsyncConnection, learner_id: UUID, offering_id: UUID
) -> UUID | None:
    found: UUID | None = await conn.scalar(
        select(enrolment.c.id).where(
            enrolment.c.learner_id == learner_id,
            enrolment.c.offering_id == offering_id,
            enrolment.c.status.in_(_ACTIVE_VALUES),
        )
    )
    return found


_ACTIVE_VALUES = sorted(s.value for s in ACTIVE)


# Built once: SQLAlchemy memoizes a statement's cache key on the statement, where building
# it per call cost more CPU than the round trip (py-spy, the status polls).
_GET = (
    select(enrolment, *(c.label(_JOINED + c.name) for c in _OFFERING_COLUMNS))
    .select_from(enrolment.outerjoin(offering, offering.c.id == enrolment.c.offering_id))
    .where(enrolment.c.id == bindparam("enrolment_id"))
)
_GET_LOCKED = _GET.with_for_update(of=enrolment)
_PARTIES = select(enrolment.c.learner_id, enrolment.c.offering_id).where(
    enrolment.c.id == bindparam("enrolment_id")
)


async def get(
    conn: AsyncConnection, enrolment_id: UUID, *, for_update: bool = False
) -> Enrolment | None:
    """The enrolment with its offering, read in one round trip (`for_update` locks the
    enrolment's row only: the offering is locked, when it must be, by `get_offering`)."""
    query = _GET_LOCKED if for_update else _GET
    row = (await conn.execute(query, {"enrolment_id": enrolment_id})).first()
    if row is None:
        return None
    if getattr(row, _JOINED + "id") is None:
        raise LookupError(f"offering {row.offering_id} missing from the read model")
    return _enrolment(row, _offering(row, _JOINED))


async def lock_for_decision(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    with_learner: bool = True,
    with_offering: bool = True,
) -> Enrolment | None:
    """The enrolment, locked in the service's lock order: learner, offering, enrolment.

    Decisions taken for a whole offering (its cancellation) skip the learner lock: they
    already hold the offering's, and do not depend on the learner's record. Decisions
    that can neither take nor free a seat (a payment received) skip the offering's: it
    guards seat counting, and every enrolment and payment of a cohort would queue on it.
    Skipping a lock keeps the order of the others, so no deadlock can come of it.
    """
    while True:
        row = (await conn.execute(_PARTIES, {"enrolment_id": enrolment_id})).first()
        if row is None:
            return None
        if with_learner:
            await lock_learner(conn, row.learner_id)
        if with_offering:
            await get_offering(conn, row.offering_id, for_update=True)
        found = await get(conn, enrolment_id, for_update=True)
        if found is not None and found.offering.id == row.offering_id:
            return found
        # transferred meanwhile: lock the new offering too


async def insert(
    conn: AsyncConnection, item: Enrolment, *, learner_subject: str, now: datetime
) -> None:
    values = {name: getattr(item, name) for name in (*_FIXED, *_MUTABLE)}
    await conn.execute(
        enrolment.insert().values(
            **values,
            learner_subject=learner_subject,
            offering_id=item.offering.id,
            created_at=item.requested_at,
            updated_at=now,
        )
    )


async def save(conn: AsyncConnection, item: Enrolment, *, now: datetime, **extra: Any) -> None:
    values = {name: getattr(item, name) for name in _MUTABLE}
    await conn.execute(
        update(enrolment)
        .where(enrolment.c.id == item.id)
        .values(**values, **extra, offering_id=item.offering.id, updated_at=now)
    )


async def waitlisted(conn: AsyncConnection, target: Offering, *, limit: int) -> list[Enrolment]:
    """The first `limit` learners on the offering's waitlist, in order, locked."""
    rows = await conn.execute(
        select(enrolment)
        .where(enrolment.c.offering_id == target.id, enrolment.c.status == Status.WAITLISTED.value)
        .order_by(enrolment.c.waitlisted_at, enrolment.c.id)
        .limit(limit)
        .with_for_update()
    )
    return [_enrolment(row, target) for row in rows]


async def waitlist_length(conn: AsyncConnection, offering_id: UUID) -> int:
    return int(
        await conn.scalar(
            select(func.count())
            .select_from(enrolment)
            .where(
                enrolment.c.offering_id == offering_id,
                enrolment.c.status == Status.WAITLISTED.value,
            )
        )
        or 0
    )


async def waitlist_position(conn: AsyncConnection, item: Enrolment) -> int | None:
    if item.status is not Status.WAITLISTED or item.waitlisted_at is None:
        return None
    ahead = await conn.scalar(
        select(func.count())
        .select_from(enrolment)
        .where(
            enrolment.c.offering_id == item.offering.id,
            enrolment.c.status == Status.WAITLISTED.value,
            or_(
                enrolment.c.waitlisted_at < item.waitlisted_at,
                (enrolment.c.waitlisted_at == item.waitlisted_at) & (enrolment.c.id < item.id),
            ),
        )
    )
    return int(ahead or 0) + 1


async def enrolment_for_notice(
    conn: AsyncConnection, notice: PaymentNotice
) -> tuple[UUID, PaymentStatus] | None:
    """Which enrolment a provider's event is about, and its payment status: by our reference,
    else by its session or payment intent (a refund's charge carries only the intent)."""
    conditions = []
    if notice.enrolment_id is not None:
        conditions.append(enrolment.c.id == notice.enrolment_id)
    if notice.session_id:
        conditions.append(enrolment.c.checkout_session_id == notice.session_id)
    if notice.payment_intent_id:
        conditions.append(enrolment.c.payment_intent_id == notice.payment_intent_id)
    if not conditions:
        return None
    query = select(enrolment.c.id, enrolment.c.payment_status).where(or_(*conditions))
    row = (await conn.execute(query.limit(1))).first()
    return (row.id, PaymentStatus(row.payment_status)) if row else None


async def due_holds(conn: AsyncConnection, *, now: datetime, limit: int = 100) -> list[DueHold]:
    rows = await conn.execute(
        select(enrolment.c.id, enrolment.c.checkout_session_id)
        .where(
            enrolment.c.status == Status.PENDING_PAYMENT.value,
            enrolment.c.hold_expires_at <= now,
        )
        .order_by(enrolment.c.hold_expires_at)
        .limit(limit)
    )
    return [DueHold(row.id, row.checkout_session_id) for row in rows]


async def due_offers(conn: AsyncConnection, *, now: datetime, limit: int = 100) -> list[UUID]:
    return list(
        await conn.scalars(
            select(enrolment.c.id)
            .where(
                enrolment.c.status == Status.SEAT_OFFERED.value, enrolment.c.offer_expires_at <= now
            )
            .order_by(enrolment.c.offer_expires_at)
            .limit(limit)
        )
    )


async def due_refunds(conn: AsyncConnection, *, limit: int = 100) -> list[UUID]:
    return list(
        await conn.scalars(
            select(enrolment.c.id)
            .where(
                enrolment.c.payment_status == PaymentStatus.REFUND_DUE.value,
                enrolment.c.refund_requested_at.is_(None),
            )
            .limit(limit)
        )
    )


async def in_active_offering(conn: AsyncConnection, offering_id: UUID) -> list[UUID]:
    return list(
        await conn.scalars(
            select(enrolment.c.id).where(
                enrolment.c.offering_id == offering_id,
                enrolment.c.status.in_(_ACTIVE_VALUES),
            )
        )
    )


async def of_learner_in(conn: AsyncConnection, learner_id: UUID, status: Status) -> list[UUID]:
    return list(
        await conn.scalars(
            select(enrolment.c.id).where(
                enrolment.c.learner_id == learner_id, enrolment.c.status == status.value
            )
        )
    )


async def of_learner(
    conn: AsyncConnection, learner_id: UUID, *, limit: int, after: After | None
) -> list[Enrolment]:
    """The learner's enrolments, newest first: `limit` of them from `after` on."""
    query = select(enrolment).where(enrolment.c.learner_id == learner_id)
    if after is not None:
        query = query.where(tuple_(enrolment.c.created_at, enrolment.c.id) < after)
    rows = await conn.execute(
        query.order_by(enrolment.c.created_at.desc(), enrolment.c.id.desc()).limit(limit)
    )
    offerings: dict[UUID, Offering] = {}
    items = []
    for row in rows.all():
        if row.offering_id not in offerings:  # enrolments are only made in known offerings
            found = await get_offering(conn, row.offering_id)
            if found is None:
                raise LookupError(f"offering {row.offering_id} missing from the read model")
            offerings[row.offering_id] = found
        items.append(_enrolment(row, offerings[row.offering_id]))
    return items


async def roster(
    conn: AsyncConnection,
    target: Offering,
    *,
    status: Status | None,
    limit: int | None,
    after: After | None = None,
) -> list[RosterLine]:
    """An offering's enrolments with each learner's university id, in the order they came:
    `limit` of them (all with None) from `after` on."""
    query = (
        select(enrolment, learner.c.university_id)
        .select_from(enrolment.outerjoin(learner, learner.c.id == enrolment.c.learner_id))
        .where(enrolment.c.offering_id == target.id)
        .order_by(enrolment.c.created_at, enrolment.c.id)
    )
    if status is not None:
        query = query.where(enrolment.c.status == status.value)
    if after is not None:
        query = query.where(tuple_(enrolment.c.created_at, enrolment.c.id) > after)
    if limit is not None:
        query = query.limit(limit)
    rows = await conn.execute(query)
    return [RosterLine(_enrolment(row, target), row.university_id) for row in rows]


async def started_checkouts(conn: AsyncConnection, *, since: datetime) -> list[StartedCheckout]:
    """Enrolments created since `since` whose checkout started, oldest first."""
    rows = await conn.execute(
        select(
            enrolment.c.id,
            enrolment.c.checkout_session_id,
            enrolment.c.status,
            enrolment.c.payment_status,
        )
        .where(enrolment.c.checkout_session_id.is_not(None), enrolment.c.created_at >= since)
        .order_by(enrolment.c.created_at)
    )
    return [
        StartedCheckout(
            enrolment_id=row.id,
            checkout_session_id=row.checkout_session_id,
            status=Status(row.status),
            payment_status=PaymentStatus(row.payment_status),
        )
        for row in rows
    ]


async def confirmed_ids(conn: AsyncConnection, *, after: UUID | None, limit: int) -> list[UUID]:
    """Confirmed enrolments in id order, after `after` (for the reconciler)."""
    query = select(enrolment.c.id).where(enrolment.c.status == Status.CONFIRMED.value)
    if after is not None:
        query = query.where(enrolment.c.id > after)
    rows = await conn.execute(query.order_by(enrolment.c.id).limit(limit))
    return [row.id for row in rows]


async def knows_version(conn: AsyncConnection, micro_credential_id: UUID, version: int) -> bool:
    """Whether the catalogue's MicroCredentialPublished of this version arrived here."""
    found = await conn.scalar(
        select(micro_credential.c.id).where(
            micro_credential.c.id == micro_credential_id, micro_credential.c.version == version
        )
    )
    return found is not None
