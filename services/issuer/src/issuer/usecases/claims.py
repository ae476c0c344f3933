"""Wallet claims: offering a credential to the learner's wallet, and the VC-API exchange
(DID authentication) that hands over a copy bound to the holder's DID.

The interaction URL (``/claims/{code}?iuv=1``, the QR code's content) answers the
protocols on offer; the exchange (``/exchanges/{code}``) first answers a
``DIDAuthentication`` request with a one-time challenge and this issuer's domain, then
takes the wallet's signed presentation and returns the copy. The code is a secret of
192 bits (only its SHA-256 is stored); each claim is taken once, before it expires.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.issuer import WalletClaimOffered
from credstack.refusals import Reason, Refusal
from issuer import repository
from issuer.domain import CredentialNotFound, Status
from issuer.identity import Issuer
from issuer.standards import oid4vci
from issuer.usecases import vcapi
from issuer.verification import Verifier
from issuer.wallet_claims import (
    OFFER_LIFETIME,
    BadProof,
    Claim,
    CredentialNotClaimable,
    NoClaim,
    Protocol,
)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class Offer:
    claim: Claim
    code: str


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def interaction_url(issuer: Issuer, code: str) -> str:
    return f"{issuer.base_url}/claims/{code}?iuv=1"


def exchange_url(issuer: Issuer, code: str) -> str:
    return f"{issuer.base_url}/exchanges/{code}"


def domain_of(issuer: Issuer) -> str:
    return urlparse(issuer.base_url).netloc


async def offer(
    conn: AsyncConnection,
    credential_id: UUID,
    learner_id: UUID,
    *,
    at: datetime,
    pin: str | None = None,
) -> Offer:
    """A new claim of the learner's own active credential (with a PIN for OpenID4VCI's
    ``tx_code`` when ``pin`` is given)."""
    found = await repository.credential_by_id(conn, credential_id)
    if found is None or found.learner_id != learner_id:
        raise CredentialNotFound(credential_id)
    if found.status is not Status.ACTIVE:
        raise CredentialNotClaimable(f"A {found.status} credential cannot go into a wallet.")
    return await _new_offer(conn, credential_id, learner_id, at=at, pin=pin)


async def _new_offer(
    conn: AsyncConnection, credential_id: UUID, learner_id: UUID, *, at: datetime, pin: str | None
) -> Offer:
    code = secrets.token_urlsafe(24)
    made = Claim(uuid4(), credential_id, learner_id, expires_at=at + OFFER_LIFETIME)
    made.pin_hash = code_hash(pin) if pin else None
    await repository.add_claim(conn, made, code_hash(code), at=at)
    return Offer(made, code)


async def offer_in_email(
    conn: AsyncConnection, issuer: Issuer, credential_id: UUID, learner_id: UUID, *, at: datetime
) -> WalletClaimOffered:
    """A claim of a credential just issued, for the notifier to put in the learner's email
    (no PIN: the email is the learner's own channel; the offer is single use and expires).
    The credential was issued to the learner in this transaction: active, not read again."""
    made = await _new_offer(conn, credential_id, learner_id, at=at, pin=None)
    return WalletClaimOffered(
        credential_id=credential_id,
        learner_id=learner_id,
        claim_id=made.claim.id,
        page_url=f"{issuer.page_url(credential_id)}?claim={made.code}",
        interaction_url=interaction_url(issuer, made.code),
        credential_offer=oid4vci.offer_link(
            oid4vci.credential_offer(issuer.base_url, made.code, pin_length=None)
        ),
        expires_at=made.claim.expires_at,
    )


async def _open_claim(conn: AsyncConnection, code: str, at: datetime) -> Claim:
    found = await repository.claim_by_code(conn, code_hash(code))
    if found is None:
        raise NoClaim()
    found.ensure_open(at)
    return found


async def interaction(conn: AsyncConnection, code: str, *, at: datetime) -> Claim:
    """The open claim of ``code`` (NoClaim, ClaimExpired, AlreadyClaimed)."""
    return await _open_claim(conn, code, at)


async def did_auth_request(
    conn: AsyncConnection, issuer: Issuer, code: str, *, at: datetime
) -> dict[str, Any]:
    """Start (or restart) the exchange: a DIDAuthentication request, new challenge."""
    found = await _open_claim(conn, code, at)
    found.ask(secrets.token_urlsafe(16), at)
    await repository.save_claim(conn, found)
    return {
        "query": [
            {
                "type": "DIDAuthentication",
                "acceptedMethods": [{"method": "key"}],
                "acceptedCryptosuites": [{"cryptosuite": "eddsa-rdfc-2022"}],
            }
        ],
        "challenge": found.challenge,
        "domain": domain_of(issuer),
        "interact": {
            "service": [
                {
                    "type": "UnmediatedPresentationService2021",
                    "serviceEndpoint": exchange_url(issuer, code),
                }
            ]
        },
    }


async def complete_with_presentation(
    conn: AsyncConnection,
    issuer: Issuer,
    verifier: Verifier,
    code: str,
    presentation: dict[str, Any],
    *,
    at: datetime,
) -> dict[str, Any]:
    """Check the wallet's DID authentication; the copy bound to its holder."""
    found = await _open_claim(conn, code, at)
    if found.challenge is None:
        raise BadProof("Start the exchange first: no challenge was asked for.")
    checks, _ = await vcapi.verify_presentation(
        verifier, presentation, challenge=found.challenge, domain=domain_of(issuer), now=at
    )
    if "proof" not in presentation:
        raise BadProof("The presentation is not signed.")
    if failed := vcapi.errors_of(checks):
        raise BadProof("The presentation does not authenticate its holder.", errors=failed)
    holder = presentation.get("holder")
    holder_did = holder.get("id") if isinstance(holder, dict) else holder
    if not isinstance(holder_did, str):
        proof = presentation["proof"]
        first = proof[0] if isinstance(proof, list) else proof
        holder_did = str(first.get("verificationMethod", "")).partition("#")[0]
    return await _hand_over(conn, issuer, found, holder_did, Protocol.VCAPI, at=at)


async def _hand_over(
    conn: AsyncConnection,
    issuer: Issuer,
    found: Claim,
    holder_did: str,
    protocol: Protocol,
    *,
    at: datetime,
) -> dict[str, Any]:
    credential = await repository.credential_by_id(conn, found.credential_id)
    if credential is None:
        raise CredentialNotFound(found.credential_id)
    if credential.status is not Status.ACTIVE:
        raise CredentialNotClaimable(f"The credential is {credential.status}.")
    found.take(holder_did, protocol, at)
    bound = holder_copy(issuer, credential.document, holder_did, found.id, at=at)
    await repository.save_claim(conn, found, copy=bound)
    return bound


def holder_copy(
    issuer: Issuer, document: dict[str, Any], holder_did: str, claim_id: UUID, *, at: datetime
) -> dict[str, Any]:
    """The credential re-signed for its holder: ``credentialSubject.id`` = the holder's DID,
    its own id (``urn:uuid:<claim id>``), the same claims, dates and status entry."""
    unsigned = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    unsigned["id"] = f"urn:uuid:{claim_id}"
    unsigned["credentialSubject"] = {"id": holder_did, **unsigned["credentialSubject"]}
    unsigned["credentialSubject"]["id"] = holder_did
    return issuer.signing.sign(unsigned, at=at)


async def open_offer_of(
    conn: AsyncConnection, code: str, credential_id: UUID, *, at: datetime
) -> bool:
    """Whether ``code`` is an open claim of this credential (the page then shows its QR)."""
    found = await repository.claim_by_code(conn, code_hash(code))
    return bool(found and found.credential_id == credential_id and found.state(at) == "open")


ACCESS_LIFETIME = timedelta(minutes=10)
NONCE_LIFETIME_S = oid4vci.PROOF_MAX_AGE_S


class InvalidGrant(Refusal):
    """OpenID4VCI token request refused (rendered as OAuth ``invalid_grant``)."""

    code = "invalid-grant"
    reason = Reason.MALFORMED


class InvalidToken(Refusal):
    code = "invalid-token"
    reason = Reason.UNAUTHENTICATED


async def redeem_pre_authorized_code(
    conn: AsyncConnection, code: str, pin: str | None, *, at: datetime
) -> tuple[str, int]:
    """(access token, lifetime in seconds) for an open claim's pre-authorized code."""
    found = await repository.claim_by_code(conn, code_hash(code))
    if found is None:
        raise InvalidGrant("Unknown pre-authorized code.")
    found.redeem(code_hash(pin) if pin else None, at)
    token = secrets.token_urlsafe(32)
    await repository.grant_claim_access(
        conn, found.id, code_hash(token), expires_at=at + ACCESS_LIFETIME
    )
    return token, int(ACCESS_LIFETIME.total_seconds())


def new_nonce(issuer: Issuer, *, at: datetime) -> str:
    """A ``c_nonce``: its time and a MAC under the issuer's key (no state to keep)."""
    stamp = str(int(at.timestamp()))
    return f"{stamp}.{_nonce_mac(issuer, stamp)}"


def nonce_is_live(issuer: Issuer, nonce: object, *, at: datetime) -> bool:
    if not isinstance(nonce, str) or "." not in nonce:
        return False
    stamp, _, mac = nonce.partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(mac, _nonce_mac(issuer, stamp)):
        return False
    return 0 <= at.timestamp() - int(stamp) <= NONCE_LIFETIME_S


def _nonce_mac(issuer: Issuer, stamp: str) -> str:
    secret = issuer.signing.keys.private_keys[0].private_bytes_raw()
    return hmac.new(secret, b"oid4vci-nonce:" + stamp.encode(), hashlib.sha256).hexdigest()[:32]


async def credential_for_proof(
    conn: AsyncConnection, issuer: Issuer, access_token: str, proof_jwt: str, *, at: datetime
) -> dict[str, Any]:
    """OpenID4VCI credential endpoint: the copy bound to the DID that proved possession."""
    found = await repository.claim_by_access_token(conn, code_hash(access_token), at=at)
    if found is None:
        raise InvalidToken("The access token is unknown or has expired.")
    found.ensure_open(at)
    try:
        holder = oid4vci.holder_of_proof(
            proof_jwt,
            audience=issuer.base_url,
            nonce_ok=lambda nonce: nonce_is_live(issuer, nonce, at=at),
            now=at.timestamp(),
        )
    except oid4vci.InvalidProof as error:
        raise BadProof(str(error)) from None
    return await _hand_over(conn, issuer, found, holder, Protocol.OID4VCI, at=at)
