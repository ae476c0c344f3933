"""Enrolments: seats, up-front payment and confirmation. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from credstack.contracts.enrolment import EnrolmentConfirmed, EnrolmentRequested


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class EnrolmentError(Exception):
    """A request the enrolment rules refuse."""


@dataclass(frozen=True)
class Offering:
    id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    fee_cents: int
    status: str

    def check_open(self, at: datetime, seats_taken: int) -> None:
        if self.status != "scheduled":
            raise EnrolmentError(f"This offering is {self.status} and takes no enrolments.")
        if not self.enrolment_opens_at <= at < self.enrolment_closes_at:
            raise EnrolmentError("Enrolment in this offering is not open now.")
        if seats_taken >= self.capacity:
            raise EnrolmentError("This offering is full.")


@dataclass
class Enrolment:
    id: UUID
    learner_id: UUID
    learner_name: str
    email: str
    offering: Offering
    status: Status
    fee_cents: int

    @classmethod
    def request(
        cls,
        *,
        enrolment_id: UUID,
        learner_id: UUID,
        learner_name: str,
        email: str,
        offering: Offering,
        seats_taken: int,
        at: datetime,
    ) -> tuple[Enrolment, EnrolmentRequested]:
        offering.check_open(at, seats_taken)
        enrolment = cls(
            id=enrolment_id,
            learner_id=learner_id,
            learner_name=learner_name,
            email=email,
            offering=offering,
            status=Status.PENDING_PAYMENT,
            fee_cents=offering.fee_cents,
        )
        return enrolment, EnrolmentRequested(
            enrolment_id=enrolment_id,
            learner_id=learner_id,
            offering_id=offering.id,
            micro_credential_id=offering.micro_credential_id,
            micro_credential_version=offering.micro_credential_version,
            requested_at=at,
        )

    @property
    def payment_due(self) -> bool:
        return self.fee_cents > 0

    def confirm(self, at: datetime) -> EnrolmentConfirmed | None:
        """Confirm once the fee is paid (or none is due); a second confirmation is a no-op."""
        if self.status is Status.CONFIRMED:
            return None
        if self.status is not Status.PENDING_PAYMENT:
            raise EnrolmentError(f"A {self.status.value} enrolment cannot be confirmed.")
        self.status = Status.CONFIRMED
        return EnrolmentConfirmed(
            enrolment_id=self.id,
            learner_id=self.learner_id,
            learner_name=self.learner_name,
            email=self.email,
            offering_id=self.offering.id,
            micro_credential_id=self.offering.micro_credential_id,
            micro_credential_version=self.offering.micro_credential_version,
            confirmed_at=at,
        )
