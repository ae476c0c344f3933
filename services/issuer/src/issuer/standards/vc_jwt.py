"""VC-JWT as profiled by Open Badges 3.0: the credential as the JWS payload.

The payload is the credential itself (with its Data Integrity proof: both proofs then
hold) plus the registered claims ``iss`` (issuer id), ``jti`` (credential id), ``nbf``
(``validFrom``), ``sub`` (the subject's id; for a subject known only by a hashed email,
that ``identityHash``) and ``exp`` (``validUntil``).

The profile requires RS256 at least: the issuer signs with an RSA key, and ``kid`` is a
URL that dereferences to that key as a JWK (also listed in the issuer's JWKS). EdDSA
(Ed25519 keys, ``alg`` ``EdDSA``; ``Ed25519`` of RFC 9864 is accepted) stays an option for
verifiers that ask for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from dateutil.parser import isoparse
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey, RSAKey

ALGORITHMS = ["RS256", "EdDSA", "Ed25519"]
CLAIMS = ("iss", "jti", "nbf", "sub", "exp", "iat")

PrivateKey = rsa.RSAPrivateKey | Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | Ed25519PublicKey


class InvalidJwt(ValueError):
    pass


def jwk(key: PublicKey | PrivateKey, kid: str) -> dict[str, Any]:
    """The public JWK of ``key``, named ``kid``, with its ``alg`` and ``use``."""
    public = _public(key)
    if isinstance(public, rsa.RSAPublicKey):
        found = RSAKey.import_key(public).as_dict(private=False)
        return {**found, "kid": kid, "alg": "RS256", "use": "sig"}
    found = OKPKey.import_key(public).as_dict(private=False)
    return {**found, "kid": kid, "alg": "EdDSA", "use": "sig"}


def _public(key: PublicKey | PrivateKey) -> PublicKey:
    return key.public_key() if isinstance(key, rsa.RSAPrivateKey | Ed25519PrivateKey) else key


def subject(credential: Mapping[str, Any]) -> str | None:
    """The ``sub`` claim: the subject's id, else the hash of its identifier."""
    found = credential["credentialSubject"]
    if found.get("id"):
        return str(found["id"])
    for identifier in found.get("identifier", []):
        if identifier.get("identityHash"):
            return str(identifier["identityHash"])
    return None


def encode(credential: Mapping[str, Any], *, private_key: PrivateKey, kid: str) -> str:
    """The compact JWS of ``credential`` (already Data Integrity signed): RS256 for an RSA
    key, EdDSA for an Ed25519 key."""
    issuer = credential["issuer"]
    claims: dict[str, Any] = {
        "iss": issuer["id"] if isinstance(issuer, Mapping) else issuer,
        "jti": credential["id"],
        "nbf": int(isoparse(credential["validFrom"]).timestamp()),
    }
    if sub := subject(credential):
        claims["sub"] = sub
    if "validUntil" in credential:
        claims["exp"] = int(isoparse(credential["validUntil"]).timestamp())
    payload = json.dumps({**credential, **claims}, separators=(",", ":")).encode()
    if isinstance(private_key, rsa.RSAPrivateKey):
        alg, key = "RS256", RSAKey.import_key(private_key)
        return jws.serialize_compact(
            {"alg": alg, "kid": kid, "typ": "JWT"}, payload, key, algorithms=[alg]
        )
    okp = OKPKey.import_key(private_key)
    return jws.serialize_compact(
        {"alg": "EdDSA", "kid": kid, "typ": "JWT"}, payload, okp, algorithms=["EdDSA"]
    )


def decode(token: str, public_key_for: Callable[[str], PublicKey]) -> dict[str, Any]:
    """The credential in a VC-JWT whose signature verifies (claims removed); else InvalidJwt."""
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidJwt("the JWS header names no key (kid)")
        try:
            public_key = public_key_for(kid)
        except Exception as error:
            raise InvalidJwt(f"cannot use key {kid!r}: {error}") from error
        alg = header.get("alg")
        if isinstance(public_key, rsa.RSAPublicKey):
            if alg != "RS256":
                raise InvalidJwt(f"an RSA key signs RS256, not {alg}")
            verified = jws.deserialize_compact(
                token, RSAKey.import_key(public_key), algorithms=["RS256"]
            )
        else:
            if alg not in ("EdDSA", "Ed25519"):
                raise InvalidJwt(f"an Ed25519 key signs EdDSA, not {alg}")
            verified = jws.deserialize_compact(
                token, OKPKey.import_key(public_key), algorithms=["EdDSA", "Ed25519"]
            )
        payload = json.loads(verified.payload)
    except InvalidJwt:
        raise
    except (JoseError, ValueError, UnicodeError) as error:
        raise InvalidJwt(f"the JWS does not verify: {error}") from error
    if not isinstance(payload, dict):
        raise InvalidJwt("the JWS payload is not a JSON object")
    return {key: value for key, value in payload.items() if key not in CLAIMS}
