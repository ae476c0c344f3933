"""Events the issuer publishes on `issuer.events`, keyed by learner; a wallet claim offer,
which holds a secret for the learner alone, on `issuer.claims`."""

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
    valid_until: datetime | None = None
    """The credential's `validUntil` (None: it does not expire, or an older issuer)."""
    wallet_claim_offered: bool = False
    """A `WalletClaimOffered` for this credential follows on `issuer.claims`."""


class WalletClaimOffered(_IssuerEvent):
    """On `issuer.claims` only, for the notifier: a single-use offer of the learner's new
    credential to their wallet, open until ``expires_at``. Its links hold the claim's
    secret, so it never travels on `issuer.events`."""

    contact_data: ClassVar[bool] = True
    claim_id: UUID
    page_url: str
    """The verification page showing the claim's QR code (Learner Credential Wallet scans it)."""
    interaction_url: str
    """What the QR code holds: the VC-API exchange and the OpenID4VCI offer on offer."""
    credential_offer: str
    """OpenID4VCI: the `openid-credential-offer://` link (pre-authorized code, by value)."""
    expires_at: datetime


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
