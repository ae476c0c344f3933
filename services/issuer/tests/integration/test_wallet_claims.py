"""Into the learner's wallet: scripted holder wallets claim a credential through the VC-API
exchange Learner Credential Wallet uses (presentations signed eddsa-rdfc-2022 and
Ed25519Signature2020 with Digital Bazaar's libraries) and through OpenID4VCI (the OpenWallet
Foundation's client library); the copy verifies independently (Digital Bazaar's verifier and
verifier-core, the one Learner Credential Wallet and VerifierPlus use), carries the holder's
DID, is single-use and is revoked with its credential."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import select

from credstack.testing import ServiceUnderTest, Tokens, deliver
from issuer import tables
from tests.verifiers.digitalbazaar import (
    require_node,
    sign_did_authentication,
    verify_with_digitalbazaar,
)
from tests.verifiers.lcw_wallet import sign_did_authentication_2020
from tests.verifiers.oid4vci_wallet import claim_with_oid4vci
from tests.verifiers.verifiercore import (
    expected_log,
    verify_presentation_with_verifier_core,
    verify_with_verifier_core,
)

from .. import serving
from ..conformance import ob3_schema_errors
from ..events import Learner, micro_credential, passed
from .conftest import verifier_documents
from .test_status import one_credential


async def deliver_all_to(served: serving.Served, learner: Learner) -> None:
    item = micro_credential()
    enrolment = learner.confirmed(item)
    for event in (item, enrolment, passed(enrolment)):
        await deliver(served.app, event)


async def issued_on(served: serving.Served) -> list[Any]:
    async with served.app.state.engine.connect() as conn:
        return list((await conn.execute(select(tables.credential))).all())


def path(url: str) -> str:
    parsed = urlparse(url)
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def verified_by_verifier_core(
    credential: dict[str, Any], documents: dict[str, Any]
) -> list[dict[str, Any]]:
    """verifier-core's log for ``credential``, having checked it fetched only what was served
    and found the OB 3.0 schema it names satisfied."""
    result = verify_with_verifier_core(credential, documents)
    assert "errors" not in result and result["unserved"] == [], result
    [schema_check] = result["additionalInformation"]
    assert schema_check["id"] == "schema_check", result
    assert [r["result"] for r in schema_check["results"]] == [{"valid": True}], result
    log: list[dict[str, Any]] = result["log"]
    return log


async def offer(issuer: ServiceUnderTest, tokens: Tokens, row: Any, learner: Learner) -> Any:
    response = await issuer.http.post(
        f"/learners/me/credentials/{row.id}/claims", headers=tokens("learner", learner.subject)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_wallet_claims_by_vcapi_exchange_and_gets_a_copy_bound_to_its_did(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    ada = Learner()
    row, _ = await one_credential(issuer, ada)
    made = await offer(issuer, tokens, row, ada)

    # the wallet scans the QR code: the interaction URL names the VC-API exchange
    protocols = (await issuer.http.get(path(made["interaction_url"]))).json()["protocols"]
    assert protocols == {"vcapi": made["exchange_url"], "OID4VCI": made["credential_offer"]}
    asked = (await issuer.http.post(path(protocols["vcapi"]), json={})).json()
    request = asked["verifiablePresentationRequest"]
    assert request["query"][0]["type"] == "DIDAuthentication"
    assert request["domain"] == "localhost:8004" and len(request["challenge"]) >= 16

    # a presentation for another challenge is refused and uses nothing up
    _, stale = sign_did_authentication("not-the-challenge", request["domain"])
    refused = await issuer.http.post(
        path(protocols["vcapi"]), json={"verifiablePresentation": stale}
    )
    assert refused.status_code == 422 and refused.json()["type"].endswith("/bad-proof")

    holder, presentation = sign_did_authentication(request["challenge"], request["domain"])
    answered = await issuer.http.post(
        path(protocols["vcapi"]), json={"verifiablePresentation": presentation}
    )

    assert answered.status_code == 200, answered.text
    [copy] = answered.json()["verifiablePresentation"]["verifiableCredential"]
    assert copy["credentialSubject"]["id"] == holder
    assert (
        copy["credentialSubject"]["achievement"] == row.document["credentialSubject"]["achievement"]
    )
    assert copy["credentialStatus"] == row.document["credentialStatus"]
    assert ob3_schema_errors(copy) == []
    verdict = verify_with_digitalbazaar(copy, await verifier_documents(issuer, copy))
    assert verdict["verified"] is True, verdict
    assert verdict["statusResult"]["results"][0]["status"] is False
    # and with verifier-core, as Learner Credential Wallet checks what it receives: the
    # exchange's (unsigned) presentation, then the credential on its own
    documents = await verifier_documents(issuer, copy)
    received = verify_presentation_with_verifier_core(
        answered.json()["verifiablePresentation"], documents, unsigned=True
    )
    assert received["presentationResult"] == {"signature": "unsigned"}, received
    [in_presentation] = received["credentialResults"]
    assert in_presentation["log"] == expected_log(), received
    assert verified_by_verifier_core(copy, documents) == expected_log()

    # single use: the code is spent, whatever the wallet does next
    again = await issuer.http.post(path(protocols["vcapi"]), json={})
    assert again.status_code == 409 and again.json()["type"].endswith("/already-claimed")
    assert (await issuer.http.get(path(made["interaction_url"]))).status_code == 409
    async with issuer.engine.connect() as conn:
        # the one claimed (the other is the offer issuing made for the learner's email)
        [tracked] = (
            await conn.execute(tables.claim.select().where(tables.claim.c.holder_did.is_not(None)))
        ).all()
    assert tracked.holder_did == holder and tracked.protocol == "vcapi"
    assert tracked.copy == copy

    # revoking the credential revokes the wallet's copy too (the same status entry)
    await issuer.http.post(
        f"/credentials/{row.id}/revoke", json={"reason": "issued in error"}, headers=tokens("staff")
    )
    verdict = verify_with_digitalbazaar(copy, await verifier_documents(issuer, copy))
    assert verdict["statusResult"]["results"][0]["status"] is True
    revoked = await verifier_documents(issuer, copy)
    assert verified_by_verifier_core(copy, revoked) == expected_log(suspended=True)


async def test_claims_are_the_learners_own_expire_and_show_as_a_qr_on_the_page(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    ada = Learner()
    row, _ = await one_credential(issuer, ada)
    other = await issuer.http.post(
        f"/learners/me/credentials/{row.id}/claims", headers=tokens("learner", "someone-else")
    )
    assert other.status_code == 404
    made = await offer(issuer, tokens, row, ada)

    page = await issuer.http.get(path(made["page_url"]))
    assert page.status_code == 200
    assert "Add it to your wallet" in page.text and "<svg" in page.text
    assert made["interaction_url"] in page.text
    plain = await issuer.http.get(f"/verify/{row.id}?claim=wrong-code")
    assert "Add it to your wallet" not in plain.text
    qr = await issuer.http.get(path(made["qr_svg_url"]))
    assert qr.headers["content-type"] == "image/svg+xml" and qr.content.startswith(b"<svg")

    async with issuer.engine.begin() as conn:
        await conn.execute(
            tables.claim.update().values(expires_at=tables.claim.c.created_at - timedelta(1))
        )
    expired = await issuer.http.post(path(made["exchange_url"]), json={})
    assert expired.status_code == 410 and expired.json()["type"].endswith("/claim-expired")
    assert (await issuer.http.get("/claims/no-such-code")).status_code == 404
    assert "Add it to your wallet" not in (await issuer.http.get(path(made["page_url"]))).text


async def test_a_wallet_claims_by_openid4vci_with_a_pin_using_an_existing_client_library(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    require_node()
    async with (
        serving.https_issuer(database_url, kafka_bootstrap, tokens, tmp_path) as served,
        httpx.AsyncClient(base_url=served.base, verify=str(served.ca_cert)) as http,
    ):
        ada = Learner()
        await deliver_all_to(served, ada)
        [row] = await issued_on(served)
        made = (
            await http.post(
                f"/learners/me/credentials/{row.id}/claims",
                json={"pin": True},
                headers=tokens("learner", ada.subject),
            )
        ).json()
        offer, pin = made["credential_offer"], made["pin"]
        assert offer.startswith("openid-credential-offer://?credential_offer=")
        assert pin is not None and len(pin) == 6

        with pytest.raises(RuntimeError, match="invalid_grant"):
            await asyncio.to_thread(
                claim_with_oid4vci,
                offer,
                served.ca_cert,
                pin="000000" if pin != "000000" else "111111",
            )
        holder, [copy] = await asyncio.to_thread(claim_with_oid4vci, offer, served.ca_cert, pin=pin)

        assert copy["credentialSubject"]["id"] == holder and holder.startswith("did:key:z6Mk")
        assert copy["credentialStatus"] == row.document["credentialStatus"]
        assert ob3_schema_errors(copy) == []
        did = (await http.get("/.well-known/did.json")).json()
        status = copy["credentialStatus"]["statusListCredential"]
        documents = {did["id"]: did, status: (await http.get(status)).json()}
        verdict = verify_with_digitalbazaar(copy, documents)
        assert verdict["verified"] is True, verdict
        assert verified_by_verifier_core(copy, documents) == expected_log()

        # single use: the same offer is refused cleanly the second time
        with pytest.raises(RuntimeError, match="invalid_grant"):
            await asyncio.to_thread(claim_with_oid4vci, offer, served.ca_cert, pin=pin)


async def test_a_wallet_signing_ed25519signature2020_like_lcw_claims_too(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    ada = Learner()
    row, _ = await one_credential(issuer, ada)
    made = await offer(issuer, tokens, row, ada)
    request = (await issuer.http.post(path(made["exchange_url"]), json={})).json()[
        "verifiablePresentationRequest"
    ]
    holder, presentation = sign_did_authentication_2020(request["challenge"], request["domain"])
    assert presentation["proof"]["type"] == "Ed25519Signature2020"
    forged = {**presentation, "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
    refused = await issuer.http.post(
        path(made["exchange_url"]), json={"verifiablePresentation": forged}
    )
    assert refused.status_code == 422

    answered = await issuer.http.post(
        path(made["exchange_url"]), json={"verifiablePresentation": presentation}
    )

    assert answered.status_code == 200, answered.text
    [copy] = answered.json()["verifiablePresentation"]["verifiableCredential"]
    assert copy["credentialSubject"]["id"] == holder
    verdict = verify_with_digitalbazaar(copy, await verifier_documents(issuer, copy))
    assert verdict["verified"] is True, verdict
    assert verified_by_verifier_core(copy, await verifier_documents(issuer, copy)) == (
        expected_log()
    )
