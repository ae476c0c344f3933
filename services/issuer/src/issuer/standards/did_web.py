"""did:web (W3C CCG did:web method): where a DID document lives, and the Ed25519 keys it
lists for ``assertionMethod``. No I/O: fetching is the caller's (``issuer.did_web_resolver``).

``did:web:example.org`` -> ``https://example.org/.well-known/did.json``;
``did:web:example.org%3A8443:org:acs`` -> ``https://example.org:8443/org/acs/did.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from issuer.standards.multikey import public_key_from_multibase

PREFIX = "did:web:"
#: Verification method types whose ``publicKeyMultibase`` is an Ed25519 multikey.
_ED25519_TYPES = frozenset({"Multikey", "Ed25519VerificationKey2020"})


def document_url(did: str) -> str:
    """The https URL of a did:web's DID document; ValueError if it is not a did:web."""
    if not did.startswith(PREFIX) or "#" in did or "?" in did:
        raise ValueError(f"{did} is not a did:web")
    host, *path = did.removeprefix(PREFIX).split(":")
    host = unquote(host)
    if not host or "/" in host or any(not segment for segment in path):
        raise ValueError(f"{did} is not a well-formed did:web")
    where = "/".join(unquote(segment) for segment in path) if path else ".well-known"
    return f"https://{host}/{where}/did.json"


def assertion_keys(document: Mapping[str, Any], did: str) -> dict[str, Ed25519PublicKey]:
    """Verification method id -> Ed25519 public key, for each method the DID document lists
    under ``assertionMethod`` (by reference or embedded) that the DID controls.

    ValueError if the document is not this DID's."""
    if document.get("id") != did:
        raise ValueError(f"the DID document at {document_url(did)} is not {did}'s")
    methods = {
        _absolute(m.get("id"), did): m
        for m in document.get("verificationMethod", [])
        if isinstance(m, Mapping)
    }
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in document.get("assertionMethod", []):
        method = entry if isinstance(entry, Mapping) else methods.get(_absolute(entry, did))
        if not isinstance(method, Mapping):
            continue
        method_id = _absolute(method.get("id"), did)
        if method.get("type") not in _ED25519_TYPES or method.get("controller") != did:
            continue
        try:
            keys[method_id] = public_key_from_multibase(str(method.get("publicKeyMultibase")))
        except ValueError:
            continue
    return keys


def _absolute(method_id: Any, did: str) -> str:
    text = str(method_id)
    return f"{did}{text}" if text.startswith("#") else text
