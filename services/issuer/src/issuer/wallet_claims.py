"""Claiming a credential into a wallet: the rules, no I/O.

A claim is an offer, for one credential, that a learner's wallet may take once, before it
expires: the wallet proves control of a DID (DID authentication with a one-time challenge
and this issuer's domain) and receives a copy of the credential with
``credentialSubject.id`` = that DID. The copy shares its credential's status entry, so it is
revoked or suspended with it; every copy is recorded with its claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from credstack.refusals import NotFound, Reason, Refusal

#: How long an offer (QR code, link in an email) can be claimed.
OFFER_LIFETIME = timedelta(days=14)


class Protocol(StrEnum):
    VCAPI = "vcapi"
    OID4VCI = "oid4vci"


class ClaimState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    EXPIRED = "expired"


class NoClaim(NotFound):
    code = "no-claim"

    def __init__(self) -> None:
        super().__init__("No claim has this code: ask for a new QR code or link.")


class ClaimExpired(Refusal):
    code = "claim-expired"
    reason = Reason.GONE

    def __init__(self) -> None:
        super().__init__("This claim has expired: ask for a new QR code or link.")


class AlreadyClaimed(Refusal):
    code = "already-claimed"
    reason = Reason.CONFLICT

    def __init__(self) -> None:
        super().__init__("This credential has already been claimed with this code.")


class WrongPin(Refusal):
    code = "wrong-pin"
    reason = Reason.MALFORMED

    def __init__(self) -> None:
        super().__init__("The PIN does not match this offer.")


class BadProof(Refusal):
    code = "bad-proof"
    reason = Reason.UNPROCESSABLE


class CredentialNotClaimable(Refusal):
    code = "not-claimable"
    reason = Reason.CONFLICT


@dataclass
class Claim:
    id: UUID
    credential_id: UUID
    learner_id: UUID
    expires_at: datetime
    claimed_at: datetime | None = None
    challenge: str | None = None
    holder_did: str | None = None
    protocol: Protocol | None = None
    pin_hash: str | None = None

    def state(self, at: datetime) -> ClaimState:
        if self.claimed_at is not None:
            return ClaimState.CLAIMED
        return ClaimState.EXPIRED if at >= self.expires_at else ClaimState.OPEN

    def ensure_open(self, at: datetime) -> None:
        state = self.state(at)
        if state is ClaimState.CLAIMED:
            raise AlreadyClaimed()
        if state is ClaimState.EXPIRED:
            raise ClaimExpired()

    def ask(self, challenge: str, at: datetime) -> None:
        """A wallet starts: a new one-time challenge replaces any earlier one."""
        self.ensure_open(at)
        self.challenge = challenge

    def redeem(self, pin_hash: str | None, at: datetime) -> None:
        """The pre-authorized code is exchanged for an access token (OpenID4VCI): the PIN,
        when the offer has one, must match."""
        self.ensure_open(at)
        if self.pin_hash is not None and pin_hash != self.pin_hash:
            raise WrongPin()

    def take(self, holder_did: str, protocol: Protocol, at: datetime) -> None:
        """The wallet proved ``holder_did``: the claim is used up."""
        self.ensure_open(at)
        if not holder_did.startswith("did:"):
            raise BadProof(f"the holder {holder_did!r} is not a DID")
        self.claimed_at = at
        self.holder_did = holder_did
        self.protocol = protocol
        self.challenge = None
