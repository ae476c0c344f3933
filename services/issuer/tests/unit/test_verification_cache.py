"""Verification remembers signature and schema outcomes by exact content and key set only."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.keys import IssuerKeys, Signing
from issuer.standards.jsonld import OfflineDocumentLoader
from issuer.verification import Verifier

DID = "did:web:credentials.example.edu"
AT = datetime(2026, 5, 1, tzinfo=UTC)
DOCUMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:6a1f0d3e-3c55-4a8e-9d0e-2b7f8c9d0e1f",
    "type": ["VerifiableCredential"],
    "issuer": DID,
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:ada", "name": "Ada"},
}


async def _none(url: str) -> dict[str, Any] | None:
    return None


def verifier(keys: IssuerKeys) -> Verifier:
    return Verifier(
        keys=keys, loader=OfflineDocumentLoader(), status_lists=_none, hosted_assertions=_none
    )


async def signature_ok(keys: IssuerKeys, document: dict[str, Any]) -> bool | None:
    verdict = await verifier(keys).verify_document(document, now=AT)
    return verdict.checks[0].ok


async def test_a_changed_document_or_another_key_set_is_checked_afresh() -> None:
    keys = IssuerKeys(DID, (Ed25519PrivateKey.generate(),))
    signed = Signing(keys, OfflineDocumentLoader()).sign(DOCUMENT, at=AT)
    assert await signature_ok(keys, signed) is True
    assert await signature_ok(keys, signed) is True  # remembered, same answer

    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["name"] = "Eve"
    assert await signature_ok(keys, tampered) is False

    impostor = IssuerKeys(DID, (Ed25519PrivateKey.generate(),))
    assert await signature_ok(impostor, signed) is False
    assert await signature_ok(keys, signed) is True
