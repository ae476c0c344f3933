"""Endorsement rules: which achievement an endorsement's subject names, which credentials
embed it, what the centre issues for a managed endorser, and where an endorser's did:web
keys are. Pure, no I/O."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.endorsements import (
    Endorsement,
    Endorser,
    InvalidEndorsement,
    Origin,
    endorsed_version,
    managed_endorsement,
    shape_problems,
)
from issuer.standards import did_web
from issuer.standards.multikey import public_key_multibase
from issuer.standards.openbadges3 import IssuerProfile

BASE = "https://issuer.example"
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MC = uuid4()


def recorded(version: int | None, *, withdrawn: bool = False) -> Endorsement:
    return Endorsement(
        id=uuid4(),
        micro_credential_id=MC,
        version=version,
        origin=Origin.UPLOADED,
        endorser_name="ACS",
        endorser_id="did:key:z6Mk",
        document={},
        recorded_at=AT,
        recorded_by="staff",
        withdrawn_at=AT if withdrawn else None,
    )


def test_a_subject_names_one_known_version_or_every_version() -> None:
    versions = {1, 2}
    assert endorsed_version(
        f"{BASE}/achievements/{MC}/versions/2", base_url=BASE, micro_credential_id=MC,
        versions=versions,
    ) == 2  # fmt: skip
    assert endorsed_version(
        f"{BASE}/achievements/{MC}", base_url=BASE, micro_credential_id=MC, versions=versions
    ) is None  # fmt: skip


@pytest.mark.parametrize(
    "subject",
    [
        f"{BASE}/achievements/{MC}/versions/3",  # a version the issuer does not know
        f"{BASE}/achievements/{uuid4()}",  # another micro-credential
        f"https://elsewhere.example/achievements/{MC}",  # another issuer's
        f"{BASE}/achievements/{MC}/versions/2/attendance",  # the attendance achievement
        None,
    ],
)
def test_any_other_subject_is_refused(subject: object) -> None:
    with pytest.raises(InvalidEndorsement):
        endorsed_version(subject, base_url=BASE, micro_credential_id=MC, versions={1, 2})


def test_a_credential_embeds_current_endorsements_of_its_version_or_of_every_version() -> None:
    assert recorded(2).applies_to(2) and recorded(None).applies_to(2)
    assert not recorded(1).applies_to(2)
    assert not recorded(2, withdrawn=True).applies_to(2)


def test_only_an_endorsement_credential_with_a_subject_and_an_issuer_is_considered() -> None:
    assert shape_problems({"type": ["VerifiableCredential", "OpenBadgeCredential"]}) == [
        "type must include VerifiableCredential and EndorsementCredential",
        "credentialSubject must be one object with an id",
        "issuer must be the endorser's id or Profile",
    ]


def test_the_centre_issues_a_managed_endorsement_as_itself_naming_the_endorser() -> None:
    centre = IssuerProfile("did:web:issuer.example", "Example University", BASE)
    document = managed_endorsement(
        endorsement_id=MC,
        centre=centre,
        endorser=Endorser("Data Guild", "https://guild.example", "hello@guild.example"),
        comment="What our members need.",
        subject_id=f"{BASE}/achievements/{MC}",
        title="Data Cleaning",
        base_url=BASE,
        at=AT,
    )
    assert document["issuer"] == centre.as_json()
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["name"] == "Data Guild endorses Data Cleaning"
    assert "Example University records that Data Guild" in document["description"]
    assert document["credentialSubject"]["endorsementComment"] == (
        "Endorsed by Data Guild (https://guild.example): What our members need."
    )
    assert document["validFrom"] == "2026-11-30T09:00:00Z"


def test_a_did_web_document_lives_at_its_well_known_or_path_url() -> None:
    assert did_web.document_url("did:web:acs.example") == "https://acs.example/.well-known/did.json"
    assert (
        did_web.document_url("did:web:acs.example%3A8443:org:acs")
        == "https://acs.example:8443/org/acs/did.json"
    )
    for not_one in ("did:key:z6Mk", "did:web:", "did:web:acs.example#key-1", "did:web:a::b"):
        with pytest.raises(ValueError):
            did_web.document_url(not_one)


def test_only_ed25519_assertion_methods_the_did_controls_are_its_keys() -> None:
    did = "did:web:acs.example"
    signing, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()

    def method(name: str, key: Ed25519PrivateKey, controller: str = did) -> dict[str, str]:
        multibase = public_key_multibase(key.public_key())
        return {
            "id": name,
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": multibase,
        }

    document = {
        "id": did,
        "verificationMethod": [
            method("#key-1", signing),
            method(f"{did}#key-2", other),  # listed, but not for assertions
            method(f"{did}#key-3", other, controller="did:web:elsewhere.example"),
        ],
        "assertionMethod": ["#key-1", f"{did}#key-3"],
    }
    keys = did_web.assertion_keys(document, did)
    assert list(keys) == [f"{did}#key-1"]
    assert public_key_multibase(keys[f"{did}#key-1"]) == public_key_multibase(signing.public_key())
    with pytest.raises(ValueError):
        did_web.assertion_keys({**document, "id": "did:web:impostor.example"}, did)
