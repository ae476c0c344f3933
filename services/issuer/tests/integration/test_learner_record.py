"""The learner's record: their credentials, and a signed CLR 2.0 export."""

from credstack.testing import ServiceUnderTest, Tokens
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar

from ..events import Learner, attended, micro_credential, passed
from .conftest import deliver_all, verifier_documents


async def test_a_learner_sees_only_their_own_credentials(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    ada, grace = Learner(), Learner(name="Grace", email="grace@example.org")
    for who in (ada, grace):
        item = micro_credential()
        enrolment = who.confirmed(item)
        await deliver_all(issuer, item, enrolment, passed(enrolment))

    record = (
        await issuer.http.get("/learners/me/credentials", headers=tokens("learner", ada.subject))
    ).json()

    assert record["learner_id"] == str(ada.id)
    [mine] = record["credentials"]
    assert mine["kind"] == "micro-credential" and mine["status"] == "active"
    assert (await issuer.http.get("/learners/me/credentials")).status_code == 401
    staff_view = await issuer.http.get(f"/learners/{grace.id}/credentials", headers=tokens("staff"))
    assert len(staff_view.json()["credentials"]) == 1


async def test_the_record_exports_as_a_signed_clr_credential(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    ada = Learner()
    passing, attending = micro_credential(), micro_credential(code="MC-2")
    one, two = ada.confirmed(passing), ada.confirmed(attending)
    await deliver_all(issuer, passing, attending, one, passed(one), two, attended(two))

    response = await issuer.http.get("/learners/me/clr", headers=tokens("learner", ada.subject))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vc+ld+json")
    clr = response.json()
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert clr["@context"][1] == "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
    nested = clr["credentialSubject"]["verifiableCredential"]
    assert len(nested) == 2 and all(c["proof"] for c in nested)
    achievements = clr["credentialSubject"]["achievement"]
    assert [a["id"] for a in achievements] == [
        c["credentialSubject"]["achievement"]["id"] for c in nested
    ]
    assert clr["credentialSchema"][0]["id"].endswith("clr_v2p0_clrcredential_schema.json")
    assert clr["credentialStatus"]["type"] == "BitstringStatusListEntry"
    verdict = verify_with_digitalbazaar(clr, await verifier_documents(issuer, clr))
    assert verdict["verified"] is True, verdict
    assert verdict["statusResult"]["results"][0]["status"] is False
    verdict = (await issuer.http.post("/verify", json=clr)).json()
    assert verdict["verified"] is True, verdict

    # a stable id, that resolves publicly to the record signed afresh
    again = (
        await issuer.http.get("/learners/me/clr", headers=tokens("learner", ada.subject))
    ).json()
    assert again["id"] == clr["id"] and again["credentialStatus"] == clr["credentialStatus"]
    resolved = await issuer.http.get(clr["id"].removeprefix("http://localhost:8004"))
    assert resolved.status_code == 200 and resolved.json()["id"] == clr["id"]
    assert resolved.json()["credentialSubject"]["achievement"] == achievements
    learner, _, mac = clr["id"].rpartition("/")[2].partition(".")
    forged = await issuer.http.get(f"/records/{learner}.{mac[:-2]}AA")
    assert forged.status_code == 404
    assert (await issuer.http.get(f"/records/{learner}")).status_code == 404
    assert (await issuer.http.get("/records/not-a-record")).status_code == 404


async def test_a_learner_without_credentials_gets_a_clear_404(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    response = await issuer.http.get("/learners/me/clr", headers=tokens("learner", "nobody"))
    assert response.status_code == 404
    assert response.json()["type"].endswith("/no-credentials")
