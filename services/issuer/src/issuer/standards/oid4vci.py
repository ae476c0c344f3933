"""OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow, ``ldp_vc``. No I/O.

The issuer's metadata (``/.well-known/openid-credential-issuer``) and its authorization
server's (``/.well-known/oauth-authorization-server``, the same origin), the credential
offer (by value, in an ``openid-credential-offer://`` link), and the check of the wallet's
proof of possession: a JWT (``typ`` ``openid4vci-proof+jwt``, EdDSA) signed by a did:key
whose ``aud`` is this issuer and whose ``nonce`` is one this issuer gave. The holder's DID
becomes the credential's ``credentialSubject.id``.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from issuer.standards import did_key

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATION_ID = "OpenBadgeCredential_ldp_vc"
PROOF_TYP = "openid4vci-proof+jwt"
#: How old a proof JWT may be (its ``iat``), in seconds.
PROOF_MAX_AGE_S = 300


class InvalidProof(ValueError):
    pass


def issuer_metadata(base_url: str, contexts: list[str]) -> dict[str, Any]:
    return {
        "credential_issuer": base_url,
        "authorization_servers": [base_url],
        "credential_endpoint": f"{base_url}/oid4vci/credential",
        "nonce_endpoint": f"{base_url}/oid4vci/nonce",
        "display": [{"name": "Credstack", "locale": "en"}],
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": "ldp_vc",
                "credential_definition": {
                    "@context": contexts,
                    "type": ["VerifiableCredential", "OpenBadgeCredential"],
                },
                "cryptographic_binding_methods_supported": ["did:key"],
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA"]}},
                "display": [{"name": "Micro-credential (Open Badge 3.0)", "locale": "en"}],
            }
        },
    }


def authorization_server_metadata(base_url: str) -> dict[str, Any]:
    return {
        "issuer": base_url,
        "token_endpoint": f"{base_url}/oid4vci/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
    }


def credential_offer(base_url: str, code: str, *, pin_length: int | None) -> dict[str, Any]:
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if pin_length:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": pin_length,
            "description": "The PIN shown beside the QR code",
        }
    return {
        "credential_issuer": base_url,
        "credential_configuration_ids": [CONFIGURATION_ID],
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


def offer_link(offer: dict[str, Any]) -> str:
    """The ``openid-credential-offer://`` link (for a QR code) carrying the offer by value."""
    body = json.dumps(offer, separators=(",", ":"))
    return "openid-credential-offer://?credential_offer=" + quote(body, safe="")


def holder_of_proof(
    proof_jwt: str, *, audience: str, nonce_ok: Any, now: float | None = None
) -> str:
    """The did:key that signed a proof of possession; InvalidProof otherwise.

    ``nonce_ok(nonce)`` says whether ``nonce`` is a live one this issuer gave.
    """
    try:
        header = jws.extract_compact(proof_jwt.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeError) as error:
        raise InvalidProof(f"the proof is not a JWS: {error}") from error
    if header.get("typ") != PROOF_TYP:
        raise InvalidProof(f"the proof's typ must be {PROOF_TYP}")
    if header.get("alg") not in ("EdDSA", "Ed25519"):
        raise InvalidProof("the proof must be signed EdDSA (an Ed25519 did:key)")
    kid = str(header.get("kid", ""))
    try:
        key = did_key.public_key(kid)
    except ValueError as error:
        raise InvalidProof(f"the proof's kid must be a did:key: {error}") from error
    try:
        verified = jws.deserialize_compact(
            proof_jwt, OKPKey.import_key(key), algorithms=["EdDSA", "Ed25519"]
        )
        claims = json.loads(verified.payload)
    except (JoseError, ValueError) as error:
        raise InvalidProof(f"the proof's signature does not verify: {error}") from error
    if claims.get("aud") != audience:
        raise InvalidProof(f"the proof's aud must be {audience}")
    if not nonce_ok(claims.get("nonce")):
        raise InvalidProof("the proof's nonce is not one this issuer gave, or has expired")
    issued_at = claims.get("iat")
    moment = time.time() if now is None else now
    if not isinstance(issued_at, int | float) or abs(moment - issued_at) > PROOF_MAX_AGE_S:
        raise InvalidProof("the proof's iat is missing or too far from now")
    return kid.partition("#")[0]
