"""eddsa-rdfc-2022 Data Integrity proofs, the offline loader, undefined terms and Multikey.

The last tests cross-check our proofs with Digital Bazaar's JavaScript verifier
(``tests/verifiers/``, imported as ``tests.verifiers``); they are skipped
when node/npm are missing.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pyld import jsonld as pyld
from pyld.jsonld import JsonLdError

from issuer.standards.data_integrity import (
    UndefinedTermsError,
    VerificationError,
    canonicalize,
    sign,
    verify,
    verify_or_raise,
)
from issuer.standards.jsonld import OfflineDocumentLoader, dropped_terms, packaged_context_urls
from issuer.standards.multikey import (
    private_key_from_multibase,
    public_key_from_multibase,
    public_key_multibase,
    secret_key_multibase,
)
from tests.verifiers.digitalbazaar import requires_node, verify_with_digitalbazaar

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ISSUER_DID = "did:web:localhost%3A8004"
KEY_ID = f"{ISSUER_DID}#key-1"
STATUS_LIST = "https://localhost:8004/status/revocation/1"
CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

# W3C vc-di-eddsa test vector (eddsa-rdfc-2022/, unsigned.json, keyPair.json).
VECTOR_KEY = {
    "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "privateKeyMultibase": "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",
}
VECTOR_UNSIGNED: dict[str, Any] = {
    "@context": [VC_V2, "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
VECTOR_VM = (
    "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
)
VECTOR_CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
VECTOR_DOC_HASH = "517744132ae165a5349155bef0bb0cf2258fff99dfe1dbd914b938d775a36017"
VECTOR_PROOF_HASH = "bea7b7acfbad0126b135104024a5f1733e705108f42d59668b05c0c50004c6b0"
VECTOR_PROOF_VALUE = (
    "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme"
)


@pytest.fixture(scope="module")
def loader() -> OfflineDocumentLoader:
    return OfflineDocumentLoader()


@pytest.fixture(scope="module")
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def open_badge(subject_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A minimal OB 3.0 OpenBadgeCredential (VC 2.0) issued by ISSUER_DID."""
    return {
        "@context": [VC_V2, OB_V3],
        "id": "urn:uuid:2c3b5d2e-0f7a-4b5e-9d7c-1f2e3a4b5c6d",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": ISSUER_DID,
            "type": ["Profile"],
            "name": "Continuing Education Centre",
        },
        "validFrom": "2024-01-01T00:00:00Z",
        "name": "Data Literacy Micro-credential",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": "sha256$"
                    + hashlib.sha256(b"learner@example.org" + b"salt").hexdigest(),
                    "identityType": "emailAddress",
                    "salt": "salt",
                }
            ],
            "achievement": {
                "id": "https://localhost:8004/achievements/data-literacy",
                "type": ["Achievement"],
                "name": "Data Literacy",
                "description": "Reads, cleans and charts tabular data.",
                "criteria": {"narrative": "Passed the final assessment with 70% or more."},
            },
            **(subject_extra or {}),
        },
    }


def did_document(public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The did:web DID document of ISSUER_DID with one Multikey for assertions."""
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": ISSUER_DID,
        "verificationMethod": [
            {
                "id": KEY_ID,
                "type": "Multikey",
                "controller": ISSUER_DID,
                "publicKeyMultibase": public_key_multibase(public_key),
            }
        ],
        "assertionMethod": [KEY_ID],
    }


def key_resolver(public_key: Ed25519PublicKey, method: str = KEY_ID) -> Any:
    def public_key_for(verification_method: str) -> Ed25519PublicKey:
        if verification_method != method:
            raise KeyError(verification_method)
        return public_key

    return public_key_for


def signed_badge(key: Ed25519PrivateKey, loader: OfflineDocumentLoader) -> dict[str, Any]:
    return sign(
        open_badge(), private_key=key, verification_method=KEY_ID, created=CREATED, loader=loader
    )


# --- W3C test vector -------------------------------------------------------------------


def test_w3c_vector_signature_is_reproduced_byte_for_byte(loader: OfflineDocumentLoader) -> None:
    key = private_key_from_multibase(VECTOR_KEY["privateKeyMultibase"])

    signed = sign(
        VECTOR_UNSIGNED,
        private_key=key,
        verification_method=VECTOR_VM,
        created=VECTOR_CREATED,
        loader=loader,
    )

    assert signed["proof"] == [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": VECTOR_VM,
            "proofPurpose": "assertionMethod",
            "proofValue": VECTOR_PROOF_VALUE,
        }
    ]
    assert {k: v for k, v in signed.items() if k != "proof"} == VECTOR_UNSIGNED


def test_w3c_vector_intermediate_hashes(loader: OfflineDocumentLoader) -> None:
    proof_config = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": VECTOR_VM,
        "proofPurpose": "assertionMethod",
        "@context": VECTOR_UNSIGNED["@context"],
    }
    doc_hash = hashlib.sha256(canonicalize(VECTOR_UNSIGNED, loader).encode()).hexdigest()
    proof_hash = hashlib.sha256(canonicalize(proof_config, loader).encode()).hexdigest()
    assert (doc_hash, proof_hash) == (VECTOR_DOC_HASH, VECTOR_PROOF_HASH)


def test_w3c_vector_verifies(loader: OfflineDocumentLoader) -> None:
    public_key = public_key_from_multibase(VECTOR_KEY["publicKeyMultibase"])
    signed = {
        **VECTOR_UNSIGNED,
        "proof": {  # a single proof object, as in the vector, is accepted too
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": VECTOR_VM,
            "proofPurpose": "assertionMethod",
            "proofValue": VECTOR_PROOF_VALUE,
        },
    }
    assert verify(signed, public_key_for=key_resolver(public_key, VECTOR_VM), loader=loader)


# --- sign / verify ---------------------------------------------------------------------


def test_sign_then_verify_round_trip(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    document = open_badge()
    original = copy.deepcopy(document)

    signed = signed_badge(issuer_key, loader)

    assert document == original, "sign must not modify its input"
    assert isinstance(signed["proof"], list) and len(signed["proof"]) == 1
    proof = signed["proof"][0]
    assert proof["created"] == "2025-01-02T03:04:05Z"
    assert proof["verificationMethod"] == KEY_ID
    assert proof["proofValue"].startswith("z")
    assert len(base58.b58decode(proof["proofValue"][1:])) == 64
    assert verify(signed, public_key_for=key_resolver(issuer_key.public_key()), loader=loader)


def test_created_is_normalised_to_utc_seconds(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    created = datetime(2025, 1, 2, 5, 4, 5, 999_999, tzinfo=timezone(timedelta(hours=2)))
    signed = sign(
        open_badge(),
        private_key=issuer_key,
        verification_method=KEY_ID,
        created=created,
        loader=loader,
    )
    assert signed["proof"][0]["created"] == "2025-01-02T03:04:05Z"


def test_naive_created_is_refused(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign(
            open_badge(),
            private_key=issuer_key,
            verification_method=KEY_ID,
            created=datetime(2025, 1, 1),
            loader=loader,
        )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "Forged Credential"),
        (("validFrom",), "2020-01-01T00:00:00Z"),
        (("credentialSubject", "achievement", "name"), "Brain Surgery"),
        (("issuer", "id"), "did:web:evil.example"),
        (("proof", 0, "created"), "2025-01-02T03:04:06Z"),
    ],
)
def test_tampering_breaks_verification(
    issuer_key: Ed25519PrivateKey,
    loader: OfflineDocumentLoader,
    path: tuple[Any, ...],
    value: str,
) -> None:
    tampered = signed_badge(issuer_key, loader)
    target: Any = tampered
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    assert not verify(tampered, public_key_for=key_resolver(issuer_key.public_key()), loader=loader)
    with pytest.raises(VerificationError, match="invalid signature"):
        verify_or_raise(
            tampered, public_key_for=key_resolver(issuer_key.public_key()), loader=loader
        )


def test_an_added_undefined_term_fails_verification(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    # pyld drops the term, so the signature alone would still verify: verify must refuse.
    tampered = signed_badge(issuer_key, loader)
    tampered["credentialSubject"]["favouriteColour"] = "red"

    with pytest.raises(VerificationError, match=r"credentialSubject\.favouriteColour"):
        verify_or_raise(
            tampered, public_key_for=key_resolver(issuer_key.public_key()), loader=loader
        )


def test_wrong_key_unknown_method_and_missing_proof_fail(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    signed = signed_badge(issuer_key, loader)
    other_key = Ed25519PrivateKey.generate().public_key()

    assert not verify(signed, public_key_for=key_resolver(other_key), loader=loader)
    assert not verify(
        signed,
        public_key_for=key_resolver(issuer_key.public_key(), method="did:web:x#y"),
        loader=loader,
    )
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    with pytest.raises(VerificationError, match="no DataIntegrityProof"):
        verify_or_raise(unsigned, public_key_for=key_resolver(other_key), loader=loader)


def test_wrong_proof_purpose_fails(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    signed = signed_badge(issuer_key, loader)
    with pytest.raises(VerificationError, match="proofPurpose"):
        verify_or_raise(
            signed,
            public_key_for=key_resolver(issuer_key.public_key()),
            loader=loader,
            proof_purpose="authentication",
        )


def test_signing_a_signed_document_makes_a_proof_set(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    second_key = Ed25519PrivateKey.generate()
    second_method = f"{ISSUER_DID}#key-2"
    once = signed_badge(issuer_key, loader)

    twice = sign(
        once,
        private_key=second_key,
        verification_method=second_method,
        created=CREATED,
        loader=loader,
    )

    keys = {KEY_ID: issuer_key.public_key(), second_method: second_key.public_key()}
    assert [p["verificationMethod"] for p in twice["proof"]] == [KEY_ID, second_method]
    assert verify(twice, public_key_for=keys.__getitem__, loader=loader)


# --- undefined terms -------------------------------------------------------------------


def test_sign_refuses_an_undefined_term_and_names_it(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    document = open_badge({"favouriteColour": "blue"})

    with pytest.raises(UndefinedTermsError, match="favouriteColour") as raised:
        sign(
            document,
            private_key=issuer_key,
            verification_method=KEY_ID,
            created=CREATED,
            loader=loader,
        )
    assert raised.value.terms == ["credentialSubject.favouriteColour"]
    assert isinstance(raised.value, ValueError)


def test_dropped_terms_finds_keys_and_type_names_with_paths(
    loader: OfflineDocumentLoader,
) -> None:
    document = open_badge({"favouriteColour": "blue", "hobby": {"name": "chess"}})
    document["type"].append("FancyBadge")
    document["credentialSubject"]["achievement"]["difficulty"] = 3

    assert dropped_terms(document, loader) == [
        "type=FancyBadge",
        "credentialSubject.achievement.difficulty",
        "credentialSubject.favouriteColour",
        "credentialSubject.hobby",
    ]


def test_dropped_terms_is_empty_for_defined_documents(loader: OfflineDocumentLoader) -> None:
    assert dropped_terms(open_badge(), loader) == []
    # the examples context has an @vocab: every term is defined, none is dropped
    assert dropped_terms(VECTOR_UNSIGNED, loader) == []


def test_dropped_terms_agree_with_pyld_dropping_them(loader: OfflineDocumentLoader) -> None:
    document = open_badge({"favouriteColour": "blue"})
    expanded = str(pyld.expand(document, {"documentLoader": loader}))
    assert "favouriteColour" not in expanded and "blue" not in expanded


# --- offline loader --------------------------------------------------------------------


def test_loader_serves_packaged_contexts_and_extra_documents() -> None:
    did_doc = {"@context": "https://www.w3.org/ns/did/v1", "id": ISSUER_DID}
    loader = OfflineDocumentLoader({ISSUER_DID: did_doc})

    context = loader(VC_V2, {})
    assert context["documentUrl"] == VC_V2 and context["contextUrl"] is None
    assert "@context" in context["document"]
    assert loader(ISSUER_DID, {})["document"] == did_doc
    assert {VC_V2, OB_V3, "https://w3id.org/security/multikey/v1"} <= packaged_context_urls()

    context["document"]["@context"] = "mutated"
    assert loader(VC_V2, {})["document"]["@context"] != "mutated", "callers get copies"


def test_loader_refuses_any_other_url() -> None:
    loader = OfflineDocumentLoader()
    with pytest.raises(JsonLdError) as raised:
        loader("https://example.org/contexts/unknown.jsonld", {})
    assert raised.value.code == "loading document failed"


def test_unknown_context_cannot_be_signed(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    document = open_badge()
    document["@context"].append("https://example.org/contexts/unknown.jsonld")
    with pytest.raises(JsonLdError):
        sign(
            document,
            private_key=issuer_key,
            verification_method=KEY_ID,
            created=CREATED,
            loader=loader,
        )


# --- Multikey --------------------------------------------------------------------------


def test_multikey_matches_the_w3c_key_pair() -> None:
    private_key = private_key_from_multibase(VECTOR_KEY["privateKeyMultibase"])
    assert public_key_multibase(private_key.public_key()) == VECTOR_KEY["publicKeyMultibase"]
    assert secret_key_multibase(private_key) == VECTOR_KEY["privateKeyMultibase"]
    public_key = public_key_from_multibase(VECTOR_KEY["publicKeyMultibase"])
    assert public_key_multibase(public_key) == VECTOR_KEY["publicKeyMultibase"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("u7QE", "must start with 'z'"),
        ("z0OIl", "invalid base58btc"),
        (VECTOR_KEY["privateKeyMultibase"], "multicodec header 8026 is not ed01"),
        ("z" + base58.b58encode(b"\xed\x01" + bytes(31)).decode(), "32 bytes"),
    ],
)
def test_public_key_from_multibase_rejects_other_values(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        public_key_from_multibase(value)


# --- Digital Bazaar's verifier (independent implementation) ----------------------------


@requires_node
def test_digital_bazaar_verifies_our_open_badge(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    signed = signed_badge(issuer_key, loader)

    verdict = verify_with_digitalbazaar(signed, {ISSUER_DID: did_document(issuer_key.public_key())})

    assert verdict["verified"] is True, verdict["error"]
    assert verdict["statusResult"] is None


@requires_node
def test_digital_bazaar_rejects_a_tampered_open_badge(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    tampered = signed_badge(issuer_key, loader)
    tampered["credentialSubject"]["achievement"]["name"] = "Brain Surgery"

    verdict = verify_with_digitalbazaar(
        tampered, {ISSUER_DID: did_document(issuer_key.public_key())}
    )

    assert verdict["verified"] is False
    assert "Invalid signature" in verdict["error"]


@requires_node
def test_digital_bazaar_safe_mode_agrees_on_undefined_terms(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    tampered = signed_badge(issuer_key, loader)
    tampered["credentialSubject"]["favouriteColour"] = "red"

    verdict = verify_with_digitalbazaar(
        tampered, {ISSUER_DID: did_document(issuer_key.public_key())}
    )

    assert verdict["verified"] is False
    assert "safe mode" in verdict["error"]


@requires_node
def test_digital_bazaar_requires_the_key_in_assertion_method(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    did_doc = did_document(issuer_key.public_key())
    did_doc["assertionMethod"] = []

    verdict = verify_with_digitalbazaar(signed_badge(issuer_key, loader), {ISSUER_DID: did_doc})

    assert verdict["verified"] is False
    assert "not authorized" in verdict["error"]


def status_list_credential(
    key: Ed25519PrivateKey, loader: OfflineDocumentLoader, revoked: set[int]
) -> dict[str, Any]:
    """A signed revocation BitstringStatusListCredential (16 KiB list) of ISSUER_DID."""
    bits = bytearray(131_072 // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    encoded = base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode()
    return sign(
        {
            "@context": [VC_V2],
            "id": STATUS_LIST,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": ISSUER_DID,
            "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {
                "id": f"{STATUS_LIST}#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": "u" + encoded.rstrip("="),
            },
        },
        private_key=key,
        verification_method=KEY_ID,
        created=CREATED,
        loader=loader,
    )


@requires_node
@pytest.mark.parametrize("revoked", [False, True])
def test_digital_bazaar_reads_the_bitstring_status(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader, revoked: bool
) -> None:
    badge = open_badge()
    badge["credentialStatus"] = {
        "id": f"{STATUS_LIST}#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": STATUS_LIST,
    }
    signed = sign(
        badge,
        private_key=issuer_key,
        verification_method=KEY_ID,
        created=CREATED,
        loader=loader,
    )
    documents = {
        ISSUER_DID: did_document(issuer_key.public_key()),
        STATUS_LIST: status_list_credential(issuer_key, loader, {42} if revoked else {7}),
    }

    verdict = verify_with_digitalbazaar(signed, documents)

    # DB reports a revoked credential as verified: the status is in statusResult.
    assert verdict["verified"] is True, verdict["error"]
    assert verdict["statusResult"]["verified"] is True
    assert [r["status"] for r in verdict["statusResult"]["results"]] == [revoked]


@requires_node
def test_digital_bazaar_binds_the_issuer_to_the_key_controller(
    issuer_key: Ed25519PrivateKey, loader: OfflineDocumentLoader
) -> None:
    badge = open_badge()
    badge["issuer"]["id"] = "did:web:someone-else.example"
    signed = sign(
        badge,
        private_key=issuer_key,
        verification_method=KEY_ID,
        created=CREATED,
        loader=loader,
    )

    verdict = verify_with_digitalbazaar(signed, {ISSUER_DID: did_document(issuer_key.public_key())})

    assert verdict["verified"] is False
    assert "issuer must match" in verdict["error"]
