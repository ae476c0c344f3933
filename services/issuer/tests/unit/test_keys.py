"""Issuer keys: from configuration, generated once in the dev stack, rotated without loss."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from credstack.settings import MissingSetting
from issuer import keys
from issuer.settings import Settings
from issuer.standards import data_integrity
from issuer.standards.jsonld import OfflineDocumentLoader
from issuer.standards.multikey import secret_key_multibase

DOCUMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": "did:web:credentials.example.edu",
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:ada"},
}


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def settings(
    tmp_path: Path,
    *secret_keys: Ed25519PrivateKey,
    dev_stack: bool = False,
    jwt_keys: tuple[rsa.RSAPrivateKey, ...] = (RSA_KEY,),
) -> Settings:
    return Settings(
        public_url="https://credentials.example.edu",
        data_dir=tmp_path,
        signing_keys=[SecretStr(secret_key_multibase(k)) for k in secret_keys],
        jwt_keys=[SecretStr(keys.rsa_key_pem(k)) for k in jwt_keys],
        dev_stack=dev_stack,
    )


def test_after_a_rotation_the_newest_key_signs_and_the_old_one_still_verifies(
    tmp_path: Path,
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    loader = OfflineDocumentLoader()
    before = keys.load(settings(tmp_path, old))
    signed_before = data_integrity.sign(
        DOCUMENT,
        private_key=before.signing_key,
        verification_method=before.signing_method,
        created=datetime.now(UTC),
        loader=loader,
    )

    after = keys.load(settings(tmp_path, old, new))

    assert after.signing_method == "did:web:credentials.example.edu#key-2"
    did = after.did_document()
    assert did["assertionMethod"] == [
        "did:web:credentials.example.edu#key-1",
        "did:web:credentials.example.edu#key-2",
    ]
    assert data_integrity.verify(signed_before, public_key_for=after.public_key, loader=loader)


def test_the_dev_stack_generates_one_key_and_keeps_it(tmp_path: Path) -> None:
    first = keys.load(settings(tmp_path, dev_stack=True))
    again = keys.load(settings(tmp_path, dev_stack=True))
    assert (tmp_path / keys.DEV_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert first.did_document() == again.did_document()


def test_outside_the_dev_stack_a_missing_key_stops_the_issuer_and_writes_nothing(
    tmp_path: Path,
) -> None:
    with pytest.raises(MissingSetting, match="ISSUER_SIGNING_KEYS"):
        keys.load(settings(tmp_path))
    assert not (tmp_path / keys.DEV_KEY_FILE).exists()


def test_vc_jwt_keys_are_rsa_published_under_their_kid_and_required_outside_the_dev_stack(
    tmp_path: Path,
) -> None:
    loaded = keys.load(settings(tmp_path, Ed25519PrivateKey.generate()))
    key, kid = loaded.jwt_signer("https://credentials.example.edu")
    assert kid == "https://credentials.example.edu/keys/rsa-1" and key is loaded.jwt_keys[0]
    assert loaded.jwt_key("https://credentials.example.edu", kid) is key
    with pytest.raises(LookupError):
        loaded.jwt_key("https://credentials.example.edu", "https://elsewhere.example/keys/rsa-1")
    with pytest.raises(MissingSetting, match="ISSUER_JWT_KEYS"):
        keys.load(settings(tmp_path, Ed25519PrivateKey.generate(), jwt_keys=()))
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="2048"):
        keys.rsa_key_from_pem(keys.rsa_key_pem(small))
    dev = keys.load(settings(tmp_path, dev_stack=True, jwt_keys=()))
    assert len(dev.jwt_keys) == 1 and dev.jwt_keys[0].key_size >= 2048
    assert (tmp_path / keys.DEV_JWT_KEY_FILE).stat().st_mode & 0o777 == 0o600


async def test_a_signing_pool_signs_in_other_processes_with_the_newest_key(
    tmp_path: Path,
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    issuer_keys = keys.load(settings(tmp_path, old, new))
    loader = OfflineDocumentLoader()
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    documents = [
        {**DOCUMENT, "id": f"urn:uuid:00000000-0000-4000-8000-00000000000{n}"} for n in range(5)
    ]
    # more documents than one chunk, each with its own creation time
    dated = [
        (
            {**DOCUMENT, "id": f"urn:uuid:00000000-0000-4000-8000-0000000001{n:02}"},
            at.replace(minute=n),
        )
        for n in range(keys.SIGNING_CHUNK + 3)
    ]
    with keys.signing_pool(issuer_keys, 2) as pool:
        signing = keys.Signing(issuer_keys, loader, pool)
        many = signing.sign_many(documents, at=at)
        one = await signing.sign_async(documents[0], at=at)
        each = await signing.sign_each(dated)

    inline = keys.Signing(issuer_keys, loader)
    assert each == await inline.sign_each(dated)
    assert [(d["id"], d["proof"][0]["created"]) for d in each] == [
        (d["id"], f"2026-05-01T12:{n:02}:00Z") for n, (d, _) in enumerate(dated)
    ]
    assert all(
        data_integrity.verify(d, public_key_for=issuer_keys.public_key, loader=loader) for d in each
    )
    assert [d["id"] for d in many] == [d["id"] for d in documents]
    # Ed25519 is deterministic: the pool's proofs are exactly the in-process ones.
    assert many == inline.sign_many(documents, at=at)
    assert one == many[0]
    for signed in many:
        assert signed["proof"][0]["verificationMethod"].endswith("#key-2")
        assert data_integrity.verify(signed, public_key_for=issuer_keys.public_key, loader=loader)
