"""The learner's record: their credentials, and a signed CLR 2.0 export."""

from credstack.testing import ServiceUnderTest, Tokens
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar

from ..events import Learner, attended, micro_credential, passed
from .conftest import deliver_all


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
    did = (await issuer.http.get("/.well-known/did.json")).json()
    assert verify_with_digitalbazaar(clr, {did["id"]: did})["verified"] is True
    verdict = (await issuer.http.post("/verify", json=clr)).json()
    assert verdict["verified"] is True, verdict


async def test_a_learner_without_credentials_gets_a_clear_404(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    response = await issuer.http.get("/learners/me/clr", headers=tokens("learner", "nobody"))
    assert response.status_code == 404
    assert response.json()["type"].endswith("/no-credentials")
