"""Conformance seen from outside: the VC-JWT of the OB 3.0 JWT profile (RS256, a ``kid``
that dereferences to a JWK in the published JWKS), suspension seen by Digital Bazaar's
verifier through a ``credentialStatus`` the OB 3.0 JSON Schema accepts, status lists with
a short ``ttl``, the OB 2.0 issuer's email."""

import base64
import json
from typing import Any
from urllib.parse import urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credstack.testing import ServiceUnderTest, Tokens
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar

from ..conformance import ob3_schema_errors
from .conftest import verifier_documents
from .test_status import one_credential


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64int(text: str) -> int:
    return int.from_bytes(b64(text), "big")


async def dereference(issuer: ServiceUnderTest, url: str) -> Any:
    assert url.startswith("http://localhost:8004/"), url
    response = await issuer.http.get(urlparse(url).path)
    assert response.status_code == 200, (url, response.text)
    return response


async def test_the_vc_jwt_is_rs256_with_sub_and_a_kid_that_dereferences_to_a_published_jwk(
    issuer: ServiceUnderTest,
) -> None:
    row, _ = await one_credential(issuer)
    token = (await issuer.http.get(f"/credentials/{row.id}/jwt")).text
    header_b64, payload_b64, signature_b64 = token.split(".")
    header, payload = json.loads(b64(header_b64)), json.loads(b64(payload_b64))

    assert header["alg"] == "RS256"
    jwk_response = await dereference(issuer, header["kid"])
    assert jwk_response.headers["content-type"] == "application/jwk+json"
    jwk = jwk_response.json()
    assert jwk["kty"] == "RSA" and jwk["kid"] == header["kid"] and "d" not in jwk
    jwks = (await issuer.http.get("/.well-known/jwks.json")).json()
    assert jwk in jwks["keys"]
    # checked with `cryptography` from the published JWK alone, not the issuer's JOSE library
    public = rsa.RSAPublicNumbers(b64int(jwk["e"]), b64int(jwk["n"])).public_key()
    assert public.key_size >= 2048
    public.verify(
        b64(signature_b64),
        f"{header_b64}.{payload_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    document = row.document
    subject = document["credentialSubject"]
    assert payload["sub"] == subject["identifier"][0]["identityHash"]
    assert payload["iss"] == document["issuer"]["id"] and payload["jti"] == document["id"]
    assert isinstance(payload["nbf"], int)
    assert payload["credentialSubject"] == subject

    verdict = (
        await issuer.http.post(
            "/verify", content=token.encode(), headers={"Content-Type": "text/plain"}
        )
    ).json()
    assert verdict["verified"] is True, verdict
    forged = f"{header_b64}.{payload_b64}.{signature_b64[:-6]}AAAAAA"
    refused = (
        await issuer.http.post(
            "/verify", content=forged.encode(), headers={"Content-Type": "text/plain"}
        )
    ).json()
    assert refused["verified"] is False


async def test_an_eddsa_vc_jwt_stays_available_for_verifiers_that_ask(
    issuer: ServiceUnderTest,
) -> None:
    row, _ = await one_credential(issuer)
    token = (await issuer.http.get(f"/credentials/{row.id}/jwt?alg=EdDSA")).text
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64(header_b64))
    assert header["alg"] == "EdDSA"
    jwk = (await dereference(issuer, header["kid"])).json()
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    Ed25519PublicKey.from_public_bytes(b64(jwk["x"])).verify(
        b64(signature_b64), f"{header_b64}.{payload_b64}".encode()
    )
    assert (await issuer.http.get(f"/credentials/{row.id}/jwt?alg=HS256")).status_code == 422
    assert (await issuer.http.get("/keys/rsa-9")).status_code == 404
    assert (await issuer.http.get("/keys/nonsense")).status_code == 404


async def test_suspension_is_seen_by_digital_bazaar_and_the_entry_passes_the_ob3_schema(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    row, _ = await one_credential(issuer)
    document = row.document
    assert isinstance(document["credentialStatus"], dict)
    assert document["credentialStatus"]["statusPurpose"] == "suspension"
    assert ob3_schema_errors(document) == []
    staff = tokens("staff")

    async def external_status() -> bool:
        verdict = verify_with_digitalbazaar(document, await verifier_documents(issuer, document))
        [result] = verdict["statusResult"]["results"]
        return bool(result["status"])

    assert await external_status() is False
    await issuer.http.post(
        f"/credentials/{row.id}/suspend", json={"reason": "under review"}, headers=staff
    )
    assert await external_status() is True
    await issuer.http.post(f"/credentials/{row.id}/reinstate", headers=staff)
    assert await external_status() is False
    await issuer.http.post(
        f"/credentials/{row.id}/revoke", json={"reason": "issued in error"}, headers=staff
    )
    assert await external_status() is True  # revoked stays set on the suspension list, for good
    ours = (await issuer.http.post("/verify", json=document)).json()
    assert {c["name"]: c for c in ours["checks"]}["status"]["detail"] == "revoked"


async def test_status_lists_carry_a_short_ttl_matching_their_cache_headers(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    row, _ = await one_credential(issuer)
    await issuer.http.post(
        f"/credentials/{row.id}/suspend", json={"reason": "under review"}, headers=tokens("staff")
    )
    for purpose in ("suspension", "revocation"):
        response = await issuer.http.get(f"/status-lists/1/{purpose}")
        ttl = response.json()["credentialSubject"]["ttl"]
        assert 0 < ttl <= 300_000
        assert response.headers["cache-control"] == f"public, max-age={ttl // 1000}"


async def test_the_ob2_issuer_profile_has_an_email(issuer: ServiceUnderTest) -> None:
    profile = (await issuer.http.get("/ob2/issuer")).json()
    assert profile["email"] == "credentials@credstack.dev"
