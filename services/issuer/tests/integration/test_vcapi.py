"""The VC-API: issuing (scoped), verifying credentials and presentations, status updates,
and a did:key issuer instance."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credstack.testing import ServiceUnderTest, Tokens, running_service, service_settings
from issuer import tables
from issuer.main import create_app
from issuer.settings import Settings
from issuer.standards import data_integrity, did_key
from issuer.standards.jsonld import OfflineDocumentLoader
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar

from .conftest import verifier_documents

CREDENTIAL: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "type": ["VerifiableCredential", "ExampleAlumniCredential"],
    "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "Credstack"},
}


@pytest.fixture
async def keyed(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[ServiceUnderTest]:
    """An issuer instance whose DID is a did:key (tests, small deployments)."""
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url="http://localhost:8004",
        did_method="key",
    )
    async for service in running_service(create_app, settings, tables.metadata, "issuer"):
        yield service


async def test_staff_issue_any_vc2_credential_and_it_verifies_independently(
    keyed: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    body = {"credential": CREDENTIAL, "options": {}}
    assert (await keyed.http.post("/credentials/issue", json=body)).status_code == 401
    learner = await keyed.http.post("/credentials/issue", json=body, headers=tokens("learner"))
    assert learner.status_code == 403

    response = await keyed.http.post("/credentials/issue", json=body, headers=tokens("staff"))

    assert response.status_code == 201, response.text
    issued = response.json()["verifiableCredential"]
    did = issued["issuer"]
    assert did.startswith("did:key:z6Mk") and issued["proof"][0]["verificationMethod"].startswith(
        did + "#"
    )
    assert issued["credentialSubject"] == CREDENTIAL["credentialSubject"]
    assert issued["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert issued["validFrom"].endswith("Z")
    documents = await verifier_documents(keyed, issued)
    verdict = verify_with_digitalbazaar(issued, documents)
    assert verdict["verified"] is True, verdict
    fetched = await keyed.http.get(issued["id"].removeprefix("http://localhost:8004"))
    assert fetched.status_code == 200 and fetched.json() == issued

    verified = await keyed.http.post("/credentials/verify", json={"verifiableCredential": issued})
    assert verified.status_code == 200 and verified.json()["errors"] == []
    tampered = {**issued, "credentialSubject": {**issued["credentialSubject"], "alumniOf": "X"}}
    refused = await keyed.http.post("/credentials/verify", json={"verifiableCredential": tampered})
    assert refused.status_code == 422 and refused.json()["verified"] is False
    assert {e["name"] for e in refused.json()["errors"]} == {"signature"}

    change = {"credentialId": issued["id"], "credentialStatus": {"statusPurpose": "suspension"}}
    updated = await keyed.http.post("/credentials/status", json=change, headers=tokens("staff"))
    assert updated.status_code == 200 and updated.json()["status"] == "suspended"
    verdict = verify_with_digitalbazaar(issued, await verifier_documents(keyed, issued))
    assert verdict["statusResult"]["results"][0]["status"] is True
    assert (
        await keyed.http.post("/credentials/verify", json={"verifiableCredential": issued})
    ).status_code == 422
    revoke = {"credentialId": issued["id"], "credentialStatus": [{"statusPurpose": "revocation"}]}
    await keyed.http.post("/credentials/status", json=revoke, headers=tokens("staff"))
    clear = {
        "credentialId": issued["id"],
        "credentialStatus": {"statusPurpose": "suspension", "status": False},
    }
    again = await keyed.http.post("/credentials/status", json=clear, headers=tokens("staff"))
    assert again.status_code == 422


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"issuer": "did:example:someone-else"}, "this issuer signs as"),
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "@context"),
        ({"credentialSubject": {}}, "credentialSubject"),
        ({"id": "not a url"}, "id must be one URL"),
        ({"validFrom": "yesterday"}, "validFrom"),
        ({"proof": {"type": "DataIntegrityProof"}}, "the issuer adds the proof"),
        ({"type": ["ExampleAlumniCredential"]}, "VerifiableCredential"),
        (
            {
                "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": None}],
                "type": ["VerifiableCredential", "Unmapped"],
                "credentialSubject": {"id": "did:example:subject"},
            },
            "'Unmapped' is not defined",
        ),
        ({"credentialStatus": {"id": "urn:x:1"}}, "credentialStatus.type"),
    ],
)
async def test_a_credential_that_cannot_be_issued_is_refused_and_nothing_is_stored(
    issuer: ServiceUnderTest, tokens: Tokens, change: dict[str, Any], why: str
) -> None:
    body = {"credential": {**CREDENTIAL, **change}, "options": {}}
    response = await issuer.http.post("/credentials/issue", json=body, headers=tokens("staff"))
    assert response.status_code == 422, response.text
    assert why in str(response.json())
    async with issuer.engine.connect() as conn:
        rows = (await conn.execute(tables.vcapi_credential.select())).all()
    assert rows == []


async def test_a_presentation_verifies_with_its_challenge_and_domain_only(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    issued = (
        await issuer.http.post(
            "/credentials/issue", json={"credential": CREDENTIAL}, headers=tokens("staff")
        )
    ).json()["verifiableCredential"]
    holder_key = Ed25519PrivateKey.generate()
    holder = did_key.did_key(holder_key.public_key())
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": [issued],
    }
    signed = data_integrity.sign(
        presentation,
        private_key=holder_key,
        verification_method=did_key.method_id(holder_key.public_key()),
        created=datetime.now(UTC),
        loader=OfflineDocumentLoader(),
        proof_purpose="authentication",
        challenge="c-123",
        domain="credstack.test",
    )
    options = {"challenge": "c-123", "domain": "credstack.test"}
    ok = await issuer.http.post(
        "/presentations/verify", json={"verifiablePresentation": signed, "options": options}
    )
    assert ok.status_code == 200, ok.text
    replayed = await issuer.http.post(
        "/presentations/verify",
        json={"verifiablePresentation": signed, "options": {**options, "challenge": "other"}},
    )
    assert replayed.status_code == 422
    not_a_vp = await issuer.http.post("/presentations/verify", json={"options": options})
    assert not_a_vp.status_code == 422
