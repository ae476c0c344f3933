"""Endorsements: an endorser's own signed EndorsementCredential (verified before it is
accepted) or one the centre issues for an endorser it manages, embedded in the achievement of
credentials issued after, each verifying on its own with Digital Bazaar's verifier."""

import copy
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from credstack import devtls
from credstack.clock import now
from credstack.contracts.catalogue import MicroCredentialPublished
from credstack.pagination import encode_cursor
from credstack.testing import ServiceUnderTest, Tokens
from issuer import tables
from issuer.api import verification as verification_api
from issuer.standards import data_integrity, did_key
from issuer.standards.jsonld import OfflineDocumentLoader
from issuer.standards.multikey import public_key_multibase
from issuer.standards.openbadges3 import OB_CONTEXT, VC_CONTEXT
from issuer.standards.openbadges3 import timestamp as stamp
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar
from tests.verifiers.verifiercore import expected_log, verify_all_with_verifier_core

from ..conformance import endorsement_schema_errors, ob3_schema_errors
from ..events import Learner, micro_credential, passed
from .conftest import deliver_all, issued, verifier_documents

BASE = "http://localhost:8004"


def achievement_id(item: MicroCredentialPublished, version: int | None = None) -> str:
    every = f"{BASE}/achievements/{item.micro_credential_id}"
    return every if version is None else f"{every}/versions/{version}"


def signed_by_endorser(
    subject_id: str,
    *,
    key: Ed25519PrivateKey | None = None,
    comment: str = "Meets the ACS standard for data roles.",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """An EndorsementCredential the endorser signs with its own did:key."""
    key = key or Ed25519PrivateKey.generate()
    did = did_key.did_key(key.public_key())
    unsigned = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": "urn:uuid:6f1e4d1c-5b1a-4e57-9a53-8a0d3b1b2c11",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "ACS endorsement of Data Cleaning",
        "issuer": {
            "id": did,
            "type": ["Profile"],
            "name": "Australian Computer Society",
            "url": "https://acs.example",
        },
        "validFrom": stamp(valid_from or now() - timedelta(days=1)),
        "credentialSubject": {
            "id": subject_id,
            "type": ["EndorsementSubject"],
            "endorsementComment": comment,
        },
    }
    if valid_until is not None:
        unsigned["validUntil"] = stamp(valid_until)
    return data_integrity.sign(
        unsigned,
        private_key=key,
        verification_method=did_key.method_id(key.public_key()),
        created=datetime.now(UTC),
        loader=OfflineDocumentLoader(),
    )


ENDORSEMENT_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
)


def endorsement_log() -> list[dict[str, Any]]:
    """verifier-core's log for an endorsement it accepts: as for a credential of ours, with no
    status step (an endorsement names no status list)."""
    return [step for step in expected_log() if step["id"] != "suspension_status"]


def schema_checks(result: dict[str, Any]) -> list[tuple[str, Any]]:
    [check] = result["additionalInformation"]
    return [(r["schema"], r["result"]) for r in check["results"]]


def path(item: MicroCredentialPublished) -> str:
    return f"/achievements/{item.micro_credential_id}/endorsements"


async def credential_after(issuer: ServiceUnderTest, item: MicroCredentialPublished) -> Any:
    """A learner passes the micro-credential now: their credential (row)."""
    enrolment = Learner().confirmed(item)
    await deliver_all(issuer, enrolment, passed(enrolment))
    return (await issued(issuer))[-1]


async def test_an_endorsers_signed_endorsement_is_accepted_and_embedded_in_credentials_after(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    item = micro_credential()
    await deliver_all(issuer, item)
    before = await credential_after(issuer, item)
    endorsement = signed_by_endorser(achievement_id(item, 2))

    response = await issuer.http.post(
        path(item), json={"credential": endorsement}, headers=tokens("staff")
    )

    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["origin"] == "uploaded" and recorded["version"] == 2
    assert recorded["endorser_name"] == "Australian Computer Society"
    assert recorded["endorser_id"] == endorsement["issuer"]["id"]
    assert recorded["credential"] == endorsement
    after = await credential_after(issuer, item)
    document = after.document
    assert document["credentialSubject"]["achievement"]["endorsement"] == [endorsement]
    assert "endorsement" not in before.document["credentialSubject"]["achievement"]
    assert ob3_schema_errors(document) == []
    documents = await verifier_documents(issuer, document)
    [embedded] = document["credentialSubject"]["achievement"]["endorsement"]
    outer = verify_with_digitalbazaar(document, documents)
    assert outer["verified"] is True, outer
    inner = verify_with_digitalbazaar(embedded)
    assert inner["verified"] is True, inner
    outer_core, inner_core = verify_all_with_verifier_core([(document, documents), (embedded, {})])
    assert outer_core["log"] == expected_log(), outer_core
    assert inner_core["log"] == endorsement_log(), inner_core
    assert schema_checks(inner_core) == [(ENDORSEMENT_SCHEMA, {"valid": True})]
    ours = (await issuer.http.post("/verify", json=document)).json()
    assert ours["verified"] is True, ours
    again = await issuer.http.post(
        path(item), json={"credential": endorsement}, headers=tokens("staff")
    )
    assert again.status_code == 409


async def test_an_endorsement_of_every_version_is_embedded_in_each_version(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    first = micro_credential(version=1)
    second = micro_credential(micro_credential_id=first.micro_credential_id, version=2)
    await deliver_all(issuer, first, second)
    endorsement = signed_by_endorser(achievement_id(first))

    response = await issuer.http.post(
        path(first), json={"credential": endorsement}, headers=tokens("staff")
    )

    assert response.status_code == 201, response.text
    assert response.json()["version"] is None
    for item in (first, second):
        row = await credential_after(issuer, item)
        assert row.document["credentialSubject"]["achievement"]["endorsement"] == [endorsement]


async def test_a_tampered_endorsement_is_refused_and_nothing_is_recorded(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item = micro_credential()
    await deliver_all(issuer, item)
    tampered = copy.deepcopy(signed_by_endorser(achievement_id(item, 2)))
    tampered["credentialSubject"]["endorsementComment"] = "The best course in the country."

    response = await issuer.http.post(
        path(item), json={"credential": tampered}, headers=tokens("staff")
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("invalid-endorsement")
    assert any(e.startswith("signature: invalid signature") for e in problem["errors"]), problem
    listed = await issuer.http.get(path(item), headers=tokens("staff"))
    assert listed.json()["items"] == []
    assert (
        "endorsement"
        not in (await credential_after(issuer, item)).document["credentialSubject"]["achievement"]
    )


async def test_an_endorsement_not_yet_valid_or_unsigned_is_refused(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item = micro_credential()
    await deliver_all(issuer, item)
    future = signed_by_endorser(achievement_id(item, 2), valid_from=now() + timedelta(days=3))
    unsigned = {
        k: v for k, v in signed_by_endorser(achievement_id(item, 2)).items() if k != "proof"
    }

    for credential, reason in ((future, "validity: not valid before"), (unsigned, "signature")):
        response = await issuer.http.post(
            path(item), json={"credential": credential}, headers=tokens("staff")
        )
        assert response.status_code == 422
        assert any(e.startswith(reason) for e in response.json()["errors"]), response.json()


@dataclass
class DidWebHost:
    did: str = ""
    served: dict[str, bytes] = field(default_factory=dict)

    def publish(self, key: Ed25519PrivateKey) -> dict[str, Any]:
        """Serve a DID document listing ``key`` as ``#key-1``; returns it."""
        method = f"{self.did}#key-1"
        document = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "verificationMethod": [
                {
                    "id": method,
                    "type": "Multikey",
                    "controller": self.did,
                    "publicKeyMultibase": public_key_multibase(key.public_key()),
                }
            ],
            "assertionMethod": [method],
        }
        self.served["/" + "/".join(self.did.split(":")[3:]) + "/did.json"] = json.dumps(
            document
        ).encode()
        return document

    def signed(self, subject_id: str, key: Ed25519PrivateKey) -> dict[str, Any]:
        unsigned = signed_by_endorser(subject_id, key=key)
        del unsigned["proof"]
        unsigned["issuer"]["id"] = self.did
        return data_integrity.sign(
            unsigned,
            private_key=key,
            verification_method=f"{self.did}#key-1",
            created=datetime.now(UTC),
            loader=OfflineDocumentLoader(),
        )


@pytest.fixture
def did_web_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DidWebHost]:
    """An endorser's web origin over https (the dev CA, trusted as SSL_CERT_FILE)."""
    tls = devtls.ensure(tmp_path / "tls")
    host = DidWebHost()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = host.served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/did+json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert, tls.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_cert))
    host.did = f"did:web:127.0.0.1%3A{server.server_address[1]}:{uuid4().hex}"
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()


async def test_an_endorser_signing_with_its_did_web_is_resolved_over_https_and_accepted(
    issuer: ServiceUnderTest, tokens: Tokens, did_web_host: DidWebHost
) -> None:
    require_node()
    item = micro_credential()
    await deliver_all(issuer, item)
    key = Ed25519PrivateKey.generate()
    did_document = did_web_host.publish(key)
    endorsement = did_web_host.signed(achievement_id(item, 2), key)

    response = await issuer.http.post(
        path(item), json={"credential": endorsement}, headers=tokens("staff")
    )

    assert response.status_code == 201, response.text
    assert response.json()["endorser_id"] == did_web_host.did
    row = await credential_after(issuer, item)
    [embedded] = row.document["credentialSubject"]["achievement"]["endorsement"]
    inner = verify_with_digitalbazaar(embedded, {did_web_host.did: did_document})
    assert inner["verified"] is True, inner
    page = (await issuer.http.get(f"/verify/{row.id}?lang=en")).text
    assert "Endorsed by Australian Computer Society (endorsement verified)" in page


async def test_a_did_web_endorsement_is_refused_when_its_did_document_is_missing_or_not_its_key(
    issuer: ServiceUnderTest, tokens: Tokens, did_web_host: DidWebHost
) -> None:
    item = micro_credential()
    await deliver_all(issuer, item)
    key = Ed25519PrivateKey.generate()
    endorsement = did_web_host.signed(achievement_id(item, 2), key)

    missing = await issuer.http.post(
        path(item), json={"credential": endorsement}, headers=tokens("staff")
    )
    did_web_host.publish(Ed25519PrivateKey.generate())  # another key than the one that signed
    resigned = did_web_host.signed(achievement_id(item, 2), key)
    wrong_key = await issuer.http.post(
        path(item), json={"credential": resigned}, headers=tokens("staff")
    )

    assert missing.status_code == 422
    assert missing.json()["errors"][0].startswith(f"issuer: cannot resolve {did_web_host.did}")
    assert wrong_key.status_code == 422
    assert any(e.startswith("signature: invalid signature") for e in wrong_key.json()["errors"])
    assert (await issuer.http.get(path(item), headers=tokens("staff"))).json()["items"] == []


async def test_an_endorsement_of_another_achievement_is_refused(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item, other = micro_credential(), micro_credential()
    await deliver_all(issuer, item, other)

    for subject in (
        achievement_id(other, 2),
        achievement_id(item, 7),
        "https://elsewhere.example/a",
    ):
        response = await issuer.http.post(
            path(item), json={"credential": signed_by_endorser(subject)}, headers=tokens("staff")
        )
        assert response.status_code == 422, subject
        assert "credentialSubject.id" in response.json()["errors"][0]
    unknown = micro_credential()  # never published to the issuer
    response = await issuer.http.post(
        path(unknown),
        json={"credential": signed_by_endorser(achievement_id(unknown, 2))},
        headers=tokens("staff"),
    )
    assert response.status_code == 404


async def test_the_centre_issues_the_endorsement_of_an_endorser_it_manages(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    item = micro_credential()
    await deliver_all(issuer, item)
    did = (await issuer.http.get("/.well-known/did.json")).json()

    response = await issuer.http.post(
        path(item),
        json={
            "endorser": {"name": "Data Guild", "url": "https://guild.example", "email": "a@g.org"},
            "comment": "Teaches what our members need.",
            "version": 2,
        },
        headers=tokens("staff"),
    )

    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["origin"] == "issued" and recorded["endorser_name"] == "Data Guild"
    endorsement = recorded["credential"]
    assert endorsement["issuer"]["id"] == did["id"]  # the centre signs, as itself
    assert endorsement["credentialSubject"] == {
        "id": achievement_id(item, 2),
        "type": ["EndorsementSubject"],
        "endorsementComment": "Endorsed by Data Guild (https://guild.example/): "
        "Teaches what our members need.",
    }
    assert "Data Guild" in endorsement["name"]
    assert endorsement_schema_errors(endorsement) == []
    alone = verify_with_digitalbazaar(endorsement, {did["id"]: did})
    assert alone["verified"] is True, alone
    document = (await credential_after(issuer, item)).document
    [embedded] = document["credentialSubject"]["achievement"]["endorsement"]
    assert embedded == endorsement
    documents = await verifier_documents(issuer, document)
    outer = verify_with_digitalbazaar(document, documents)
    assert outer["verified"] is True, outer
    assert ob3_schema_errors(document) == []
    outer_core, inner_core = verify_all_with_verifier_core(
        [(document, documents), (embedded, documents)]
    )
    assert outer_core["log"] == expected_log(), outer_core
    assert inner_core["log"] == endorsement_log(), inner_core


async def test_a_withdrawn_endorsement_stays_in_credentials_issued_before_only(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item = micro_credential()
    await deliver_all(issuer, item)
    staff = tokens("staff")
    recorded = (
        await issuer.http.post(
            path(item),
            json={"credential": signed_by_endorser(achievement_id(item, 2))},
            headers=staff,
        )
    ).json()
    before = await credential_after(issuer, item)

    response = await issuer.http.delete(f"{path(item)}/{recorded['id']}", headers=staff)

    assert response.status_code == 200 and response.json()["withdrawn_at"] is not None
    after = await credential_after(issuer, item)
    assert "endorsement" not in after.document["credentialSubject"]["achievement"]
    async with issuer.engine.connect() as conn:
        stored = await conn.scalar(
            select(tables.credential.c.document).where(tables.credential.c.id == before.id)
        )
    assert stored["credentialSubject"]["achievement"]["endorsement"] == [recorded["credential"]]
    [listed] = (await issuer.http.get(path(item), headers=staff)).json()["items"]
    assert listed["withdrawn_at"] is not None
    unknown = await issuer.http.delete(f"{path(item)}/{item.micro_credential_id}", headers=staff)
    assert unknown.status_code == 404


async def test_endorsements_are_listed_a_page_at_a_time(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item = micro_credential()
    await deliver_all(issuer, item)
    staff = tokens("staff")
    for n in range(3):
        await issuer.http.post(
            path(item),
            json={
                "endorser": {"name": f"Guild {n}", "url": "https://g.example"},
                "comment": "Good.",
            },
            headers=staff,
        )

    first = (await issuer.http.get(path(item), params={"limit": 2}, headers=staff)).json()
    rest = (
        await issuer.http.get(
            path(item), params={"limit": 2, "cursor": first["next_cursor"]}, headers=staff
        )
    ).json()

    names = [e["endorser_name"] for e in first["items"] + rest["items"]]
    assert names == ["Guild 0", "Guild 1", "Guild 2"] and rest["next_cursor"] is None
    forged = encode_cursor("yesterday", "not-an-id")
    refused = await issuer.http.get(path(item), params={"cursor": forged}, headers=staff)
    assert refused.status_code == 400


async def test_only_staff_record_list_and_withdraw_endorsements(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item = micro_credential()
    await deliver_all(issuer, item)
    body = {"endorser": {"name": "Guild", "url": "https://g.example"}, "comment": "Good."}

    assert (await issuer.http.post(path(item), json=body)).status_code == 401
    learner = tokens("learner")
    assert (await issuer.http.post(path(item), json=body, headers=learner)).status_code == 403
    assert (await issuer.http.get(path(item), headers=learner)).status_code == 403
    withdraw = f"{path(item)}/{item.micro_credential_id}"
    assert (await issuer.http.delete(withdraw, headers=learner)).status_code == 403
    async with issuer.engine.connect() as conn:
        assert (await conn.execute(select(tables.endorsement))).all() == []


async def test_the_verification_page_shows_each_endorsement_with_its_own_verdict(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item = micro_credential()
    await deliver_all(issuer, item)
    staff = tokens("staff")
    await issuer.http.post(
        path(item), json={"credential": signed_by_endorser(achievement_id(item, 2))}, headers=staff
    )
    await issuer.http.post(
        path(item),
        json={"endorser": {"name": "Data Guild", "url": "https://g.example"}, "comment": "Good."},
        headers=staff,
    )
    row = await credential_after(issuer, item)

    english = (await issuer.http.get(f"/verify/{row.id}?lang=en")).text
    french = (await issuer.http.get(f"/verify/{row.id}?lang=fr")).text

    assert "Endorsed by Australian Computer Society (endorsement verified)" in english
    assert "Meets the ACS standard for data roles." in english
    assert "Endorsed by Data Guild (endorsement verified)" in english
    assert "on the endorser&#39;s behalf" in english
    assert "Reconnue par Australian Computer Society (reconnaissance vérifiée)" in french
    assert "Reconnue par Data Guild (reconnaissance vérifiée)" in french


async def test_the_page_marks_an_embedded_endorsement_that_no_longer_verifies(
    issuer: ServiceUnderTest, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An endorsement that expires before the credential: once it has, the credential is
    still shown valid and the endorsement not verified."""
    item = micro_credential()
    await deliver_all(issuer, item)
    endorsement = signed_by_endorser(
        achievement_id(item, 2), valid_until=now() + timedelta(days=30)
    )
    await issuer.http.post(path(item), json={"credential": endorsement}, headers=tokens("staff"))
    row = await credential_after(issuer, item)
    later = now() + timedelta(days=60)
    monkeypatch.setattr(verification_api, "now", lambda: later)

    page = (await issuer.http.get(f"/verify/{row.id}?lang=en")).text

    assert "Endorsed by Australian Computer Society (endorsement not verified)" in page
    assert "✓ Verified: this credential is authentic and valid" in page
