"""Events the enrolment service publishes on `enrolment.events`, keyed by enrolment."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from credstack.contracts.envelope import Event


class _EnrolmentEvent(Event):
    producer: ClassVar[str] = "enrolment"

    enrolment_id: UUID

    def key(self) -> str:
        return str(self.enrolment_id)


class EnrolmentRequested(_EnrolmentEvent):
    learner_id: UUID
    offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    requested_at: datetime


class EnrolmentConfirmed(_EnrolmentEvent):
    """The fee is paid (or nothing was due) and the learner is eligible: others may act."""

    learner_id: UUID
    learner_name: str
    email: str
    learner_did: str | None = None
    offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    confirmed_at: datetime


class EnrolmentCancelled(_EnrolmentEvent):
    """Cancelled before it started: payment expired or failed, refunded, offering cancelled."""

    learner_id: UUID | None = None
    offering_id: UUID | None = None
    reason: str
    cancelled_at: datetime


class EnrolmentWithdrawn(_EnrolmentEvent):
    learner_id: UUID
    offering_id: UUID
    reason: str
    withdrawn_at: datetime


class EnrolmentTransferred(_EnrolmentEvent):
    learner_id: UUID
    from_offering_id: UUID
    to_offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    transferred_at: datetime


class PaymentFailed(_EnrolmentEvent):
    """A payment attempt failed. Not `final`: a declined card, the learner may try again
    while the seat is held. `final`: a delayed payment failed and the enrolment is cancelled.
    """

    provider: str
    reason: str
    final: bool = False
    failed_at: datetime


class PaymentRefunded(_EnrolmentEvent):
    provider: str
    amount_cents: int
    refunded_at: datetime


class WaitlistSeatOffered(_EnrolmentEvent):
    learner_id: UUID
    offering_id: UUID
    email: str
    offer_expires_at: datetime
    offered_at: datetime


class IntegrityDeclarationAccepted(Event):
    """A learner accepted the academic-integrity declaration (version `version`), keyed by
    learner: it covers their enrolments, those already made and those to come."""

    producer: ClassVar[str] = "enrolment"

    learner_id: UUID
    version: int
    accepted_at: datetime
    confirmed_enrolment_ids: list[UUID] = []

    def key(self) -> str:
        return str(self.learner_id)
