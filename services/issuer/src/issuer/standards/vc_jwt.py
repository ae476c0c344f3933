"""VC-JWT as profiled by Open Badges 3.0: the credential as the JWS payload.

The payload is the credential itself (with its Data Integrity proof: both proofs then
hold) plus the registered claims ``iss`` (issuer id), ``jti`` (credential id), ``nbf``
(``validFrom``), ``sub`` (the subject's id, when it has one) and ``exp`` (``validUntil``).
The header names the algorithm (``Ed25519``, RFC 9864; ``EdDSA`` is accepted) and the
verification method (``kid``) of the issuer's DID document.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from dateutil.parser import isoparse
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHMS = ["Ed25519", "EdDSA"]
CLAIMS = ("iss", "jti", "nbf", "sub", "exp", "iat")


class InvalidJwt(ValueError):
    pass


def encode(credential: Mapping[str, Any], *, private_key: Ed25519PrivateKey, kid: str) -> str:
    """The compact JWS of ``credential`` (already Data Integrity signed)."""
    issuer = credential["issuer"]
    claims: dict[str, Any] = {
        "iss": issuer["id"] if isinstance(issuer, Mapping) else issuer,
        "jti": credential["id"],
        "nbf": int(isoparse(credential["validFrom"]).timestamp()),
    }
    if subject_id := credential["credentialSubject"].get("id"):
        claims["sub"] = subject_id
    if "validUntil" in credential:
        claims["exp"] = int(isoparse(credential["validUntil"]).timestamp())
    payload = json.dumps({**credential, **claims}, separators=(",", ":")).encode()
    key = OKPKey.import_key(private_key)
    return jws.serialize_compact(
        {"alg": "Ed25519", "kid": kid}, payload, key, algorithms=["Ed25519"]
    )


def decode(token: str, public_key_for: Callable[[str], Ed25519PublicKey]) -> dict[str, Any]:
    """The credential in a VC-JWT whose signature verifies (claims removed); else InvalidJwt."""
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidJwt("the JWS header names no verification method (kid)")
        try:
            public_key = public_key_for(kid)
        except Exception as error:
            raise InvalidJwt(f"cannot use verification method {kid!r}: {error}") from error
        verified = jws.deserialize_compact(
            token, OKPKey.import_key(public_key), algorithms=ALGORITHMS
        )
        payload = json.loads(verified.payload)
    except InvalidJwt:
        raise
    except (JoseError, ValueError, UnicodeError) as error:
        raise InvalidJwt(f"the JWS does not verify: {error}") from error
    if not isinstance(payload, dict):
        raise InvalidJwt("the JWS payload is not a JSON object")
    return {key: value for key, value in payload.items() if key not in CLAIMS}
