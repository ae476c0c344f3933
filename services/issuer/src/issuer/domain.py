"""The issuer's rules: awards waiting to be issued, credentials and their status. No I/O.

Time is an argument; methods return the events they cause. The documents themselves are
built by `issuer.standards.openbadges3`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from credstack.contracts.issuer import (
    CertificateOfAttendanceIssued,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
)
from credstack.refusals import Conflict, NotFound
from issuer.standards.bitstring_status_list import Purpose
from issuer.standards.openbadges3 import Attendance, HeldMember, Pass


class Kind(StrEnum):
    """What a credential attests (the ``kind`` column and API field)."""

    MICRO_CREDENTIAL = "micro-credential"
    ATTENDANCE = "attendance"
    STACK = "stack"


class Status(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Action(StrEnum):
    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


class AwardState(StrEnum):
    """An award waits (PENDING) for its recipient and achievement, then is ISSUED once;
    a withdrawn result makes it WITHDRAWN (a later pass makes it PENDING again)."""

    PENDING = "pending"
    ISSUED = "issued"
    WITHDRAWN = "withdrawn"


class StatusChangeRefused(Conflict):
    """A status change the credential's current status does not allow."""

    code = "status-change-refused"


class CredentialNotFound(NotFound):
    def __init__(self, credential_id: UUID) -> None:
        super().__init__(f"No credential {credential_id}.")


class NoActiveCredential(NotFound):
    code = "no-credentials"

    def __init__(self) -> None:
        super().__init__("This learner holds no active credential yet.")


def stale_decision(latest_applied: int | None, sequence: int) -> bool:
    """Whether a decision about an enrolment is older than the latest one applied.

    Assessment numbers its decisions per enrolment (pass, fail, attendance only,
    withdrawal); whatever order they arrive in, replayed or redelivered, only the newest
    counts, so a withdrawal that arrives before its pass is remembered and the pass then
    issues nothing. The same sequence again is a re-announcement and applies (the issuer's
    writes are idempotent). Sequence 0 is an unversioned decision from an older producer
    and is never stale.
    """
    return sequence > 0 and latest_applied is not None and sequence < latest_applied


def next_status(current: Status | str, action: Action | str) -> Status:
    """The status after ``action`` (revoke | suspend | reinstate).

    Revocation is final (a verifier may cache it forever); suspension is reversible, so
    only a suspended credential can be reinstated.
    """
    if current == Status.REVOKED:
        raise StatusChangeRefused("The credential is revoked: revocation is final.")
    if action == Action.REVOKE:
        return Status.REVOKED
    if action == Action.SUSPEND:
        if current == Status.SUSPENDED:
            raise StatusChangeRefused("The credential is already suspended.")
        return Status.SUSPENDED
    if action == Action.REINSTATE:
        if current != Status.SUSPENDED:
            raise StatusChangeRefused("Only a suspended credential can be reinstated.")
        return Status.ACTIVE
    raise ValueError(f"unknown status action {action!r}")


@dataclass
class Award:
    """What one enrolment earned (a pass or attendance), waiting to become a credential."""

    enrolment_id: UUID
    kind: Kind
    learner_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    awarded_at: datetime
    state: AwardState = AwardState.PENDING
    score: Decimal | None = None
    evidence: list[str] = field(default_factory=list)
    sessions_attended: int | None = None
    sessions_total: int | None = None

    @property
    def passed(self) -> Pass:
        return Pass(Decimal(self.score or 0), list(self.evidence), self.awarded_at)

    @property
    def attendance(self) -> Attendance:
        return Attendance(self.sessions_attended or 0, self.sessions_total, self.awarded_at)

    def issue(
        self,
        credential_id: UUID,
        url: str,
        *,
        at: datetime,
        valid_until: datetime | None = None,
        wallet_claim_offered: bool = False,
    ) -> CredentialIssued | CertificateOfAttendanceIssued:
        """The award becomes the credential ``credential_id`` (valid until ``valid_until``
        when it expires; ``wallet_claim_offered`` when an offer to the learner's wallet
        follows on the issuer's claims topic)."""
        self.state = AwardState.ISSUED
        facts: dict[str, Any] = {
            "credential_id": credential_id,
            "url": url,
            "learner_id": self.learner_id,
            "enrolment_id": self.enrolment_id,
            "micro_credential_id": self.micro_credential_id,
            "micro_credential_version": self.micro_credential_version,
            "issued_at": at,
        }
        if self.kind is Kind.ATTENDANCE:
            return CertificateOfAttendanceIssued(**facts)
        return CredentialIssued(
            **facts, valid_until=valid_until, wallet_claim_offered=wallet_claim_offered
        )


StatusEvent = CredentialRevoked | CredentialSuspended | CredentialReinstated


@dataclass
class Credential:
    """An issued credential: its signed document and its status."""

    id: UUID
    kind: Kind
    learner_id: UUID
    title: str
    document: dict[str, Any]
    issued_at: datetime
    status: Status
    recipient_name: str
    recipient_email: str
    achievement_id: str
    status_reason: str | None = None
    enrolment_id: UUID | None = None
    micro_credential_id: UUID | None = None
    micro_credential_version: int | None = None
    stack_id: UUID | None = None
    stack_version: int | None = None

    @property
    def url(self) -> str:
        return str(self.document["id"])

    def revoke(self, reason: str, at: datetime) -> CredentialRevoked:
        self.status, self.status_reason = next_status(self.status, Action.REVOKE), reason
        return CredentialRevoked(
            credential_id=self.id, learner_id=self.learner_id, reason=reason, revoked_at=at
        )

    def suspend(self, reason: str, at: datetime) -> CredentialSuspended:
        self.status, self.status_reason = next_status(self.status, Action.SUSPEND), reason
        return CredentialSuspended(
            credential_id=self.id, learner_id=self.learner_id, reason=reason, suspended_at=at
        )

    def reinstate(self, reason: str, at: datetime) -> CredentialReinstated:
        self.status, self.status_reason = next_status(self.status, Action.REINSTATE), reason
        return CredentialReinstated(
            credential_id=self.id, learner_id=self.learner_id, reinstated_at=at
        )

    def change(self, action: Action, reason: str, at: datetime) -> StatusEvent:
        """Apply ``action``; the status list purposes to re-sign are `touched_by`."""
        if action is Action.REVOKE:
            return self.revoke(reason, at)
        if action is Action.SUSPEND:
            return self.suspend(reason, at)
        return self.reinstate(reason, at)

    @staticmethod
    def touched_by(action: Action, before: Status) -> list[Purpose]:
        """The status lists whose bit for this credential changes with ``action``.

        The suspension list's bit is set while a credential is suspended and for good once
        it is revoked (the one entry external verifiers read); the revocation list's bit
        only once it is revoked."""
        touched = {Purpose.SUSPENSION}
        if action is Action.REVOKE:
            touched.add(Purpose.REVOCATION)
        return sorted(touched)

    @property
    def member_urls(self) -> set[str]:
        """For a stack credential: the URLs of the member credentials it counted."""
        return {str(item.get("id")) for item in self.document.get("evidence", [])}

    def stacks_to_revoke(self, held: Sequence[Credential]) -> list[Credential]:
        """The learner's stack credentials that counted this (revoked) member credential
        and still stand: revoking a member revokes them too."""
        if self.kind is not Kind.MICRO_CREDENTIAL:
            return []
        return [
            other
            for other in held
            if other.kind is Kind.STACK
            and other.status is not Status.REVOKED
            and self.url in other.member_urls
        ]

    def as_held_member(self) -> HeldMember:
        subject = self.document["credentialSubject"]
        if self.micro_credential_id is None:
            raise ValueError("only micro-credentials are stack members")
        return HeldMember(
            micro_credential_id=self.micro_credential_id,
            credential_url=self.url,
            title=self.title,
            credit_points=Decimal(str(subject.get("creditsEarned", 0))),
            awarded_at=self.issued_at,
        )
