import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from issuer.domain import Award, IssuerProfile, Recipient, hashed_email, open_badge_credential

T0 = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
SNAPSHOT = {
    "micro_credential_id": str(uuid4()),
    "version": 1,
    "code": "MC-1",
    "title": "Data Cleaning",
    "description": "D",
    "learning_outcomes": [{"id": "LO1", "description": "Clean a dataset"}],
    "pass_mark": "70",
    "credit_points": "3.125",
    "language": "en",
    "expiry_months": None,
}


def credential(**snapshot_changes: object) -> dict:
    return open_badge_credential(
        issuer=IssuerProfile(
            did="did:web:example.edu", name="Example University", url="https://example.edu"
        ),
        recipient=Recipient(name="Ada", email="Ada@Example.org"),
        snapshot=SNAPSHOT | snapshot_changes,
        award=Award(uuid4(), uuid4(), Decimal(80), [], T0),
        base_url="https://credentials.example.edu",
        issued_at=T0,
        salt="s4lt",
    )


def test_the_recipient_is_a_salted_hash_of_the_normalised_email() -> None:
    identity = hashed_email(" Ada@Example.org ", "s4lt")
    expected = hashlib.sha256(b"ada@example.org" + b"s4lt").hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert identity["hashed"] is True and identity["salt"] == "s4lt"


def test_the_credential_names_the_exact_version_and_carries_no_email() -> None:
    document = credential()
    assert document["credentialSubject"]["achievement"]["id"].endswith("/versions/1")
    assert "ada@example.org" not in json.dumps(document).lower()
    assert "validUntil" not in document


def test_a_credential_that_expires_has_valid_until() -> None:
    assert credential(expiry_months=24)["validUntil"] == "2028-11-22T10:30:00Z"
