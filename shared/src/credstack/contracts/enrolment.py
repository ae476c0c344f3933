"""Events the enrolment service publishes on `enrolment.events`."""

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
    """The fee is paid (or nothing was due): assessment and the issuer may act."""

    learner_id: UUID
    learner_name: str
    email: str
    learner_did: str | None = None
    offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    confirmed_at: datetime


class EnrolmentCancelled(_EnrolmentEvent):
    reason: str
    cancelled_at: datetime
