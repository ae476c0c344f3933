"""Events the issuer publishes on `issuer.events`, keyed by learner."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from credstack.contracts.envelope import Event


class _IssuerEvent(Event):
    producer: ClassVar[str] = "issuer"

    credential_id: UUID
    learner_id: UUID

    def key(self) -> str:
        return str(self.learner_id)


class CredentialIssued(_IssuerEvent):
    enrolment_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    url: str
    issued_at: datetime


class CertificateOfAttendanceIssued(_IssuerEvent):
    enrolment_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    url: str
    issued_at: datetime


class StackCredentialIssued(_IssuerEvent):
    stack_id: UUID
    stack_version: int
    member_credential_ids: list[UUID]
    url: str
    issued_at: datetime


class CredentialRevoked(_IssuerEvent):
    reason: str
    revoked_at: datetime


class CredentialSuspended(_IssuerEvent):
    reason: str
    suspended_at: datetime


class CredentialReinstated(_IssuerEvent):
    reinstated_at: datetime
