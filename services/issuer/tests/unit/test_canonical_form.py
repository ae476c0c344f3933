"""The fast signing path canonicalizes exactly as plain pyld does.

Signing expands each document once (that expansion serves the undefined-term check and
the canonicalization) and reuses processed contexts across documents. Its RDFC-1.0
N-Quads must be byte-identical to ``pyld.normalize`` of the compact document with no
shared context processing: on the W3C / 1EdTech test vectors in ``shared/reference`` and on
every kind of document the issuer signs (credentials, stacks, attendance, status lists,
CLRs embedding signed credentials, and signed documents with their proofs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld as pyld
from pyld.jsonld import JsonLdError

from issuer.standards import bitstring_status_list, clr2, data_integrity
from issuer.standards.jsonld import OfflineDocumentLoader, expand_checked
from issuer.standards.openbadges3 import (
    Attendance,
    HeldMember,
    Issuance,
    IssuerProfile,
    Pass,
    Recipient,
    StatusEntry,
    attendance_certificate,
    open_badge_credential,
    stack_credential,
)

VECTORS = Path(__file__).resolve().parents[4] / "shared" / "reference" / "test-vectors"
if not VECTORS.exists():  # a worktree: the reference folder sits beside it
    VECTORS = Path(__file__).resolve().parents[5] / "shared" / "reference" / "test-vectors"
T0 = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
PROFILE = IssuerProfile(did="did:web:example.edu", name="Example U", url="https://example.edu")
BASE = "https://credentials.example.edu"
KEY = Ed25519PrivateKey.generate()
SNAPSHOT: dict[str, Any] = {
    "micro_credential_id": str(uuid4()),
    "version": 2,
    "code": "MC-1",
    "title": "Data Cleaning",
    "description": "Cleans data.",
    "learning_outcomes": [{"id": "LO1", "description": "Clean a dataset"}],
    "alignments": [{"name": "Data literacy", "url": "https://esco.example/s/1", "code": "S1"}],
    "endorsements": [{"name": "Data Society"}],
    "pass_mark": "70",
    "credit_points": "3.125",
    "notional_hours": "65",
    "cpd_hours": "10",
    "field_of_study": "Management and Commerce",
    "language": "fr",
    "expiry_months": 36,
}


def reference_canonical(document: Any) -> str:
    """pyld.normalize as a fresh processor would run it: no context kept between documents."""
    packaged = OfflineDocumentLoader()

    def loader(url: str, options: Any = None) -> dict[str, Any]:
        return {k: v for k, v in packaged(url, options).items() if k != "tag"}

    result: str = pyld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
    )
    return result


def fast_canonical(document: dict[str, Any], loader: OfflineDocumentLoader) -> str | None:
    """The signing path's canonical form, or None if the document has undefined terms."""
    expanded, undefined = expand_checked(document, loader)
    if undefined:
        return None
    return data_integrity._canonical_expanded(expanded)


def issuance() -> Issuance:
    return Issuance(
        credential_id=uuid4(),
        issuer=PROFILE,
        recipient=Recipient(name="Ada", email="ada@example.org"),
        base_url=BASE,
        issued_at=T0,
        salt="s4lt",
        status=StatusEntry(bitstring_status_list.list_url(BASE, 1), 94567),
    )


def signed(document: dict[str, Any]) -> dict[str, Any]:
    return data_integrity.sign(
        document,
        private_key=KEY,
        verification_method=f"{PROFILE.did}#key-1",
        created=T0,
        loader=OfflineDocumentLoader(),
    )


def issued_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    micro = open_badge_credential(issuance(), SNAPSHOT, Pass(Decimal("86.5"), ["e1"], T0))
    yield "micro-credential", micro
    yield (
        "micro-credential, no expiry",
        open_badge_credential(
            issuance(), SNAPSHOT | {"expiry_months": None}, Pass(Decimal(70), [], T0)
        ),
    )
    yield "attendance", attendance_certificate(issuance(), SNAPSHOT, Attendance(8, 10, T0))
    members = [
        HeldMember(uuid4(), f"{BASE}/credentials/{n}", f"M{n}", Decimal("3.125"), T0)
        for n in range(3)
    ]
    stack = {
        "stack_id": str(uuid4()),
        "version": 1,
        "code": "S",
        "title": "Series",
        "description": "d",
        "kind": "series",
        "members": [str(m.micro_credential_id) for m in members],
        "credit_points": "9.375",
    }
    yield "stack", stack_credential(issuance(), stack, members, {})
    yield (
        "status list",
        bitstring_status_list.status_list_credential(
            issuer=PROFILE,
            base_url=BASE,
            number=1,
            purpose="revocation",
            set_indexes=[3, 94567],
            at=T0,
        ),
    )
    signed_micro = signed(micro)
    yield "signed micro-credential (proof graph)", signed_micro
    twice = signed(signed_micro)
    yield "proof set (two proofs)", twice
    yield (
        "CLR of signed credentials",
        clr2.clr_credential(
            record_id=f"{uuid4()}.m4c",
            issuer=PROFILE,
            base_url=BASE,
            learner_name="Ada",
            email="ada@example.org",
            salt="s4lt",
            credentials=[signed_micro, twice],
            status=StatusEntry(bitstring_status_list.list_url(BASE, 1, "suspension"), 7),
            at=T0,
        ),
    )


def vector_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(VECTORS.rglob("*.json*")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(document, dict) and "@context" in document:
            yield str(path.relative_to(VECTORS)), document


@pytest.mark.parametrize(("name", "document"), list(issued_documents()))
def test_every_kind_of_issued_document_canonicalizes_as_plain_pyld(
    name: str, document: dict[str, Any]
) -> None:
    loader = OfflineDocumentLoader()
    first = fast_canonical(document, loader)
    assert first is not None, f"{name} has undefined terms"
    assert first == reference_canonical(document)
    # Again with the contexts already processed by this loader: still the same bytes.
    assert fast_canonical(document, loader) == first


def test_the_reference_vectors_canonicalize_as_plain_pyld() -> None:
    loader = OfflineDocumentLoader()
    compared = 0
    for name, document in vector_documents():
        try:
            expected = reference_canonical(document)
        except JsonLdError:
            continue  # a context that is not packaged (remote, or deliberately broken)
        actual = fast_canonical(document, loader)
        if actual is None:
            continue  # undefined terms: signing refuses such a document outright
        assert actual == expected, name
        compared += 1
    assert compared >= 20, f"only {compared} vectors could be compared"
