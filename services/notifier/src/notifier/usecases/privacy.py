"""What the notifier holds on a learner: their export. Erasure arrives as `LearnerErased`
(`events.learner_erased`, `repository.erase_learner`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.privacy import LearnerData
from notifier.tables import (
    contact,
    credential,
    enrolment,
    interest,
    message,
    preference,
    wallet_claim,
)

M = TypeVar("M", bound=BaseModel)


class Contact(BaseModel):
    email: str
    name: str
    language: str | None
    changed_at: datetime


class Preferences(BaseModel):
    language: str | None
    reminders: bool
    updated_at: datetime


class Interest(BaseModel):
    micro_credential_id: UUID
    email: str
    language: str | None
    registered_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None


class MessageRecord(BaseModel):
    id: UUID
    kind: str
    to_address: str | None
    subject: str | None
    facts: dict[str, Any]
    language: str | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None


class EnrolmentRecord(BaseModel):
    id: UUID
    offering_id: UUID
    micro_credential_id: UUID
    stage: str
    result: str | None
    requested_at: datetime


class CredentialRecord(BaseModel):
    id: UUID
    kind: str
    url: str
    status: str
    issued_at: datetime


class WalletClaim(BaseModel):
    credential_id: UUID
    claim_id: UUID
    page_url: str
    interaction_url: str
    expires_at: datetime


class NotifierData(LearnerData):
    contact: Contact | None
    preferences: Preferences | None
    interest: list[Interest]
    messages: list[MessageRecord]
    enrolments: list[EnrolmentRecord]
    credentials: list[CredentialRecord]
    wallet_claims: list[WalletClaim]


def _all(model: type[M], rows: Iterable[Any]) -> list[M]:
    return [model.model_validate(row, from_attributes=True) for row in rows]


async def learner_data(
    conn: AsyncConnection, learner_id: UUID, *, emails: Collection[str], at: datetime
) -> NotifierData:
    """Everything the notifier holds on the learner: by their id, and for interest and
    messages to an address, by their contact email and the `emails` they signed in with."""
    found = (await conn.execute(select(contact).where(contact.c.learner_id == learner_id))).first()
    addresses = {e.lower() for e in emails} | ({found.email.lower()} if found else set())
    chosen = (
        await conn.execute(select(preference).where(preference.c.learner_id == learner_id))
    ).first()
    interests = await conn.execute(
        select(interest)
        .where(func.lower(interest.c.email).in_(addresses))
        .order_by(interest.c.registered_at)
    )
    messages = await conn.execute(
        select(message)
        .where(
            or_(message.c.learner_id == learner_id, func.lower(message.c.to_address).in_(addresses))
        )
        .order_by(message.c.seq)
    )
    enrolments = await conn.execute(
        select(enrolment)
        .where(enrolment.c.learner_id == learner_id)
        .order_by(enrolment.c.requested_at)
    )
    credentials = await conn.execute(
        select(credential)
        .where(credential.c.learner_id == learner_id)
        .order_by(credential.c.issued_at)
    )
    claims = await conn.execute(
        select(wallet_claim)
        .where(wallet_claim.c.learner_id == learner_id)
        .order_by(wallet_claim.c.expires_at)
    )
    return NotifierData(
        service="notifier",
        learner_id=learner_id,
        generated_at=at,
        contact=None if found is None else Contact.model_validate(found, from_attributes=True),
        preferences=None
        if chosen is None
        else Preferences.model_validate(chosen, from_attributes=True),
        interest=_all(Interest, interests),
        messages=_all(MessageRecord, messages),
        enrolments=_all(EnrolmentRecord, enrolments),
        credentials=_all(CredentialRecord, credentials),
        wallet_claims=_all(WalletClaim, claims),
    )
