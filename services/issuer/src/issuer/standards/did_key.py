"""did:key for Ed25519 keys (W3C did:key method 0.9): resolved offline, no registry.

``did:key:z6Mk…`` is the multibase ``publicKeyMultibase`` of the key; its one verification
method is ``did:key:z6Mk…#z6Mk…``. Used by issuer instances that have no web origin of their
own (tests, small deployments, the W3C test suites), and by wallets as holder DIDs.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from issuer.standards.multikey import public_key_from_multibase, public_key_multibase

PREFIX = "did:key:"


def did_key(public_key: Ed25519PublicKey) -> str:
    return PREFIX + public_key_multibase(public_key)


def method_id(public_key: Ed25519PublicKey) -> str:
    multibase = public_key_multibase(public_key)
    return f"{PREFIX}{multibase}#{multibase}"


def public_key(method: str) -> Ed25519PublicKey:
    """The key of a did:key verification method (``did:key:X#X``, or the bare DID);
    ValueError for anything else."""
    did, _, fragment = method.partition("#")
    if not did.startswith(PREFIX) or (fragment and fragment != did.removeprefix(PREFIX)):
        raise ValueError(f"{method} is not an Ed25519 did:key verification method")
    return public_key_from_multibase(did.removeprefix(PREFIX))


def document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 did:key (one Multikey, for every relationship)."""
    key = public_key(did)
    method = method_id(key)
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": public_key_multibase(key),
            }
        ],
        "assertionMethod": [method],
        "authentication": [method],
        "capabilityInvocation": [method],
        "capabilityDelegation": [method],
    }
