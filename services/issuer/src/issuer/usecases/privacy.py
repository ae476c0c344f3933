"""A learner's privacy rights in the issuer: everything it holds on them, and erasure.

Erasure (`LearnerErased`) removes the learner's contact details, the name and email kept
per enrolment, the email on each issued credential's row and wallet offers not taken.
Issued credentials stay as signed: they must keep verifying for whoever the learner showed
them to, and they identify the learner only by a salted hash of the email. The name as
printed stays on the credential's row: its image, PDF and verification page show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.enrolment import LearnerErased
from credstack.contracts.envelope import Received
from credstack.privacy import ERASED, LearnerData, forget_parked_contacts
from issuer.tables import (
    award,
    claim,
    contact,
    credential,
    erased_learner,
    parked,
    recipient,
)

M = TypeVar("M", bound=BaseModel)


class Contact(BaseModel):
    name: str
    email: str
    changed_at: datetime


class RecipientRecord(BaseModel):
    enrolment_id: UUID
    name: str | None
    email: str | None
    did: str | None


class AwardRecord(BaseModel):
    enrolment_id: UUID
    kind: str
    micro_credential_id: UUID
    micro_credential_version: int
    score: Decimal | None
    sessions_attended: int | None
    sessions_total: int | None
    awarded_at: datetime
    status: str


class IssuedCredential(BaseModel):
    id: UUID
    kind: str
    title: str
    recipient_name: str
    recipient_email: str
    issued_at: datetime
    status: str
    status_reason: str | None
    status_changed_at: datetime | None
    document: dict[str, Any]


class ClaimRecord(BaseModel):
    id: UUID
    credential_id: UUID
    created_at: datetime
    expires_at: datetime
    claimed_at: datetime | None
    protocol: str | None
    holder_did: str | None
    copy_issued: dict[str, Any] | None


class IssuerData(LearnerData):
    contact: Contact | None
    recipients: list[RecipientRecord]
    awards: list[AwardRecord]
    credentials: list[IssuedCredential]
    claims: list[ClaimRecord]
    erased_at: datetime | None


def _all(model: type[M], rows: Iterable[Any]) -> list[M]:
    return [model.model_validate(row, from_attributes=True) for row in rows]


async def learner_data(conn: AsyncConnection, learner_id: UUID, *, at: datetime) -> IssuerData:
    """Everything the issuer holds on the learner, issued credentials in full."""
    found = (await conn.execute(select(contact).where(contact.c.learner_id == learner_id))).first()
    recipients = await conn.execute(
        select(recipient)
        .where(recipient.c.learner_id == learner_id)
        .order_by(recipient.c.enrolment_id)
    )
    awards = await conn.execute(
        select(award).where(award.c.learner_id == learner_id).order_by(award.c.awarded_at)
    )
    issued = await conn.execute(
        select(credential)
        .where(credential.c.learner_id == learner_id)
        .order_by(credential.c.issued_at, credential.c.id)
    )
    claims = await conn.execute(
        select(claim, claim.c.copy.label("copy_issued"))
        .where(claim.c.learner_id == learner_id)
        .order_by(claim.c.created_at)
    )
    return IssuerData(
        service="issuer",
        learner_id=learner_id,
        generated_at=at,
        contact=None if found is None else Contact.model_validate(found, from_attributes=True),
        recipients=_all(RecipientRecord, recipients),
        awards=_all(AwardRecord, awards),
        credentials=_all(IssuedCredential, issued),
        claims=_all(ClaimRecord, claims),
        erased_at=await conn.scalar(
            select(erased_learner.c.erased_at).where(erased_learner.c.learner_id == learner_id)
        ),
    )


async def learner_erased(conn: AsyncConnection, event: LearnerErased, received: Received) -> None:
    """Erase what the issuer holds on the learner that issued credentials do not need.
    Applying it again finds nothing left to erase."""
    learner_id = event.learner_id
    await conn.execute(
        insert(erased_learner)
        .values(learner_id=learner_id, erased_at=event.erased_at)
        .on_conflict_do_update(
            index_elements=["learner_id"],
            set_={"erased_at": event.erased_at},
            where=erased_learner.c.erased_at < event.erased_at,
        )
    )
    await conn.execute(
        delete(contact).where(
            contact.c.learner_id == learner_id, contact.c.changed_at <= event.erased_at
        )
    )
    await conn.execute(
        update(recipient).where(recipient.c.learner_id == learner_id).values(name=None, email=None)
    )
    await conn.execute(
        update(credential)
        .where(credential.c.learner_id == learner_id, credential.c.issued_at <= event.erased_at)
        .values(recipient_email=ERASED)
    )
    await conn.execute(
        delete(claim).where(claim.c.learner_id == learner_id, claim.c.claimed_at.is_(None))
    )
    await forget_parked_contacts(conn, parked, learner_id)
