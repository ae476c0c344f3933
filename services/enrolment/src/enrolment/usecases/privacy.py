"""A learner's privacy rights in the enrolment service: everything it holds on them, and
erasure of their personal data (announced to the other services by two events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.enrolment import LearnerContactChanged, LearnerDataErased, LearnerErased
from credstack.privacy import ERASED, Erasure, LearnerData, scrubbed
from enrolment import records
from enrolment.domain import PaymentStatus, Status
from enrolment.domain.erasure import (
    PAYMENT_PERSONAL_FIELDS,
    PLATFORM,
    EnrolmentStanding,
    check_erasable,
)
from enrolment.tables import (
    enrolment,
    erasure,
    held_credential,
    learner,
    local_checkout_session,
    local_webhook,
    offering,
    outbox,
    payment_event,
    placement,
)


class Profile(BaseModel):
    email: str
    name_on_credential: str
    university_id: str | None
    sign_in_subject: str
    declaration_version: int | None
    declaration_accepted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EnrolmentRecord(BaseModel):
    id: UUID
    offering_id: UUID
    offering_code: str | None
    offering_title: str | None
    status: str
    payment_status: str
    learner_name: str
    email: str
    fee_cents: int
    currency: str
    amount_paid_cents: int
    amount_refunded_cents: int
    language_experience: bool | None
    experience_statement: str | None
    eligibility_note: str | None
    requested_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None


class PaymentRecord(BaseModel):
    id: str
    type: str
    enrolment_id: UUID | None
    received_at: datetime
    outcome: str | None
    payload: dict[str, Any] | None


class HeldCredential(BaseModel):
    credential_id: UUID
    micro_credential_id: UUID
    status: str
    issued_at: datetime


class ErasureRecord(BaseModel):
    learner_id: UUID
    requested_by: str
    erased_at: datetime
    repeated: bool = False
    services: list[Erasure]


class EnrolmentData(LearnerData):
    profile: Profile | None
    enrolments: list[EnrolmentRecord]
    payments: list[PaymentRecord]
    credentials_held: list[HeldCredential]
    placements: dict[str, str]
    erasure: ErasureRecord | None


async def learner_data(conn: AsyncConnection, learner_id: UUID, *, at: datetime) -> EnrolmentData:
    """Everything this service holds on the learner."""
    row = (await conn.execute(select(learner).where(learner.c.id == learner_id))).first()
    enrolments = (
        await conn.execute(
            select(enrolment, offering.c.code, offering.c.title)
            .outerjoin(offering, offering.c.id == enrolment.c.offering_id)
            .where(enrolment.c.learner_id == learner_id)
            .order_by(enrolment.c.created_at, enrolment.c.id)
        )
    ).all()
    payments = await conn.execute(
        select(payment_event)
        .where(payment_event.c.enrolment_id.in_([e.id for e in enrolments]))
        .order_by(payment_event.c.received_at, payment_event.c.id)
    )
    held = await conn.execute(
        select(held_credential)
        .where(held_credential.c.learner_id == learner_id)
        .order_by(held_credential.c.issued_at)
    )
    placements = await conn.execute(select(placement).where(placement.c.learner_id == learner_id))
    return EnrolmentData(
        service="enrolment",
        learner_id=learner_id,
        generated_at=at,
        profile=None if row is None else _profile(row),
        enrolments=[_enrolment(e) for e in enrolments],
        payments=[
            PaymentRecord(
                id=p.id,
                type=p.type,
                enrolment_id=p.enrolment_id,
                received_at=p.received_at,
                outcome=p.outcome,
                payload=p.payload,
            )
            for p in payments
        ],
        credentials_held=[
            HeldCredential(
                credential_id=h.credential_id,
                micro_credential_id=h.micro_credential_id,
                status=h.status,
                issued_at=h.issued_at,
            )
            for h in held
        ],
        placements={p.language: p.level for p in placements},
        erasure=await erasure_of(conn, learner_id),
    )


def _profile(row: Any) -> Profile:
    return Profile(
        email=row.email,
        name_on_credential=row.name_on_credential,
        university_id=row.university_id,
        sign_in_subject=row.subject,
        declaration_version=row.declaration_version,
        declaration_accepted_at=row.declaration_accepted_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _enrolment(row: Any) -> EnrolmentRecord:
    return EnrolmentRecord(
        id=row.id,
        offering_id=row.offering_id,
        offering_code=row.code,
        offering_title=row.title,
        status=row.status,
        payment_status=row.payment_status,
        learner_name=row.learner_name,
        email=row.email,
        fee_cents=row.fee_cents,
        currency=row.currency,
        amount_paid_cents=row.amount_paid_cents,
        amount_refunded_cents=row.amount_refunded_cents,
        language_experience=row.language_experience,
        experience_statement=row.experience_statement,
        eligibility_note=row.eligibility_note,
        requested_at=row.created_at,
        confirmed_at=row.confirmed_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
    )


async def erasure_of(conn: AsyncConnection, learner_id: UUID) -> ErasureRecord | None:
    row = (await conn.execute(select(erasure).where(erasure.c.learner_id == learner_id))).first()
    if row is None:
        return None
    return ErasureRecord.model_validate(row.report)


async def erase(
    conn: AsyncConnection, learner_id: UUID, *, requested_by: str, at: datetime
) -> ErasureRecord:
    """Erase the learner's personal data here and announce it (`LearnerErased` on the
    contact topic, `LearnerDataErased` on the events topic). Once done, asking again
    changes nothing and answers the first record (`repeated`), unless the learner has
    given personal data again since (a new profile), which is then erased too."""
    await records.lock_learner(conn, learner_id)
    previous = await erasure_of(conn, learner_id)
    rows = (
        await conn.execute(
            select(enrolment.c.id, enrolment.c.status, enrolment.c.payment_status).where(
                enrolment.c.learner_id == learner_id
            )
        )
    ).all()
    profile = await conn.scalar(select(learner.c.id).where(learner.c.id == learner_id))
    if previous is not None and profile is None:
        return previous.model_copy(update={"repeated": True})
    check_erasable(
        EnrolmentStanding(r.id, Status(r.status), PaymentStatus(r.payment_status)) for r in rows
    )
    await _erase_personal_data(conn, learner_id, [r.id for r in rows])
    record = ErasureRecord(
        learner_id=learner_id, requested_by=requested_by, erased_at=at, services=list(PLATFORM)
    )
    await conn.execute(
        insert(erasure)
        .values(
            learner_id=learner_id,
            requested_by=requested_by,
            erased_at=at,
            report=record.model_dump(mode="json"),
        )
        .on_conflict_do_update(
            index_elements=["learner_id"],
            set_={
                "requested_by": requested_by,
                "erased_at": at,
                "report": record.model_dump(mode="json"),
            },
        )
    )
    await outbox.add(conn, LearnerErased(learner_id=learner_id, erased_at=at), now=at)
    await outbox.add(conn, LearnerDataErased(learner_id=learner_id, erased_at=at), now=at)
    return record


async def _erase_personal_data(
    conn: AsyncConnection, learner_id: UUID, enrolment_ids: list[UUID]
) -> None:
    await conn.execute(delete(learner).where(learner.c.id == learner_id))
    await conn.execute(  # the outbox keeps published rows a while, to publish them again
        delete(outbox.table).where(
            outbox.table.c.key == str(learner_id),
            outbox.table.c.payload["type"].astext == LearnerContactChanged.type_name(),
        )
    )
    await conn.execute(
        update(enrolment)
        .where(enrolment.c.learner_id == learner_id)
        .values(
            learner_name=ERASED, email=ERASED, learner_subject=ERASED, experience_statement=None
        )
    )
    payments = await conn.execute(
        select(payment_event.c.id, payment_event.c.payload).where(
            payment_event.c.enrolment_id.in_(enrolment_ids), payment_event.c.payload.is_not(None)
        )
    )
    for payment in payments.all():
        await conn.execute(
            update(payment_event)
            .where(payment_event.c.id == payment.id)
            .values(payload=scrubbed(payment.payload, PAYMENT_PERSONAL_FIELDS))
        )
    await conn.execute(
        update(local_checkout_session)
        .where(local_checkout_session.c.enrolment_id.in_(enrolment_ids))
        .values(customer_email=ERASED)
    )
    enrolment_of = local_webhook.c.payload["data"]["object"]["metadata"]["enrolment_id"]
    webhooks = await conn.execute(
        select(local_webhook.c.id, local_webhook.c.payload).where(
            enrolment_of.astext.in_([str(i) for i in enrolment_ids])
        )
    )
    for webhook in webhooks.all():
        await conn.execute(
            update(local_webhook)
            .where(local_webhook.c.id == webhook.id)
            .values(payload=scrubbed(webhook.payload, PAYMENT_PERSONAL_FIELDS))
        )
