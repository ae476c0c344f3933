"""Issuing from consumed events: micro-credentials and certificates of attendance."""

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import func, select

from credstack.testing import ServiceUnderTest, Tokens, deliver, received, staged_events
from issuer import tables
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar

from ..conformance import ob3_schema_errors
from ..events import Learner, attended, micro_credential, passed, withdrawn
from .conftest import deliver_all, issued, verifier_documents


async def test_a_pass_becomes_one_signed_open_badge_whatever_order_the_events_arrive_in(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, passed(enrolment), enrolment)
    assert await issued(issuer) == []
    await deliver(issuer.app, item)

    [row] = await issued(issuer)
    credential = row.document
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["id"].endswith(f"/achievements/{item.micro_credential_id}/versions/2")
    assert achievement["creditsAvailable"] == 3.125
    assert achievement["alignment"][0]["targetCode"] == "S1"
    assert "65 notional hours" in achievement["tag"] and "60 CPD hours" in achievement["tag"]
    assert "65 notional hours of learning, 60 CPD hours" in achievement["criteria"]["narrative"]
    assert credential["credentialSubject"]["result"][0]["value"] == "86.5"
    assert credential["evidence"][0]["id"] == "https://lms.example.edu/submissions/42"
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["credentialStatus"]["statusPurpose"] == "suspension"
    assert "validUntil" in credential
    events = await staged_events(issuer.engine, tables.outbox)
    assert [e["type"] for e in events] == [
        "credstack.issuer.CredentialIssued.v1",
        "credstack.issuer.WalletClaimOffered.v1",
    ]
    issued_event, offer = events
    assert issued_event["data"]["url"] == credential["id"]
    assert issued_event["subject"] == str(ada.id)
    # the notifier learns the expiry (for its reminder) and that a wallet offer follows
    assert issued_event["data"]["valid_until"].replace("+00:00", "Z") == credential["validUntil"]
    assert issued_event["data"]["wallet_claim_offered"] is True
    # the offer's links hold the claim's secret: only on the issuer's claims topic
    async with issuer.engine.connect() as conn:
        queued = tables.outbox.table
        topics = list(await conn.scalars(select(queued.c.topic).order_by(queued.c.id)))
    assert topics == ["issuer.events", "issuer.claims"]
    assert offer["data"]["page_url"].startswith(f"http://localhost:8004/verify/{row.id}?claim=")
    assert offer["data"]["credential_offer"].startswith("openid-credential-offer://")


async def test_a_redelivered_pass_never_issues_twice(issuer: ServiceUnderTest) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    decision = passed(enrolment)
    await deliver_all(issuer, item, enrolment, decision)
    await deliver(issuer.app, decision)  # the same decision, redelivered under a new event id
    await deliver(issuer.app, passed(enrolment))  # the same result released again
    async with issuer.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.credential)) == 1


async def test_a_regraded_pass_supersedes_the_credential_in_one_decision(
    issuer: ServiceUnderTest,
) -> None:
    """Still a pass, another score: the old credential is revoked as superseded and a new
    one issued with the released result, both from the one event."""
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment))
    before = len(await staged_events(issuer.engine, tables.outbox))

    await deliver(issuer.app, passed(enrolment, score="92"))

    first, second = await issued(issuer)
    assert (first.status, second.status) == ("revoked", "active")
    assert first.document["credentialSubject"]["result"][0]["value"] == "86.5"
    assert second.document["credentialSubject"]["result"][0]["value"] == "92"
    new = [e["type"] for e in (await staged_events(issuer.engine, tables.outbox))[before:]]
    assert new == [
        "credstack.issuer.CredentialRevoked.v1",
        "credstack.issuer.CredentialIssued.v1",
        "credstack.issuer.WalletClaimOffered.v1",
    ]
    async with issuer.engine.connect() as conn:
        reason = await conn.scalar(
            select(tables.credential.c.status_reason).where(tables.credential.c.id == first.id)
        )
    assert reason.startswith("Superseded: the result was regraded")


async def test_a_pass_after_a_withdrawn_result_is_issued_anew(issuer: ServiceUnderTest) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment), withdrawn(enrolment))
    await deliver(issuer.app, passed(enrolment, score="75"))

    first, second = await issued(issuer)
    assert first.status == "revoked" and second.status == "active"
    assert second.document["credentialSubject"]["result"][0]["value"] == "75"


async def test_the_recipient_is_a_fresh_salted_hash_per_credential_plus_their_did(
    issuer: ServiceUnderTest,
) -> None:
    ada = Learner(did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    first, second = micro_credential(), micro_credential(code="MC-2")
    await deliver_all(issuer, first, second)
    for item in (first, second):
        enrolment = ada.confirmed(item)
        await deliver_all(issuer, enrolment, passed(enrolment))

    identities = [
        row.document["credentialSubject"]["identifier"][0] for row in await issued(issuer)
    ]
    assert identities[0]["salt"] != identities[1]["salt"]
    assert identities[0]["identityHash"] != identities[1]["identityHash"]
    assert all(row.document["credentialSubject"]["id"] == ada.did for row in await issued(issuer))
    assert "ada@example.org" not in str([row.document for row in await issued(issuer)])


async def test_a_language_of_instruction_other_than_english_is_prominent(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(language="fr", title="Négociation"), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment))

    [row] = await issued(issuer)
    achievement = row.document["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "fr"
    assert row.document["name"] == "Négociation (taught in French)"
    assert achievement["description"].startswith("Language of instruction: French.")
    page = await issuer.http.get(f"/verify/{row.id}")
    assert "Taught in French" in page.text


async def test_attendance_only_gives_a_certificate_of_attendance_that_claims_no_assessment(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, attended(enrolment))

    [row] = await issued(issuer)
    assert row.kind == "attendance"
    subject = row.document["credentialSubject"]
    achievement = subject["achievement"]
    assert achievement["achievementType"] == "ext:CertificateOfAttendance"
    assert achievement["id"].endswith("/attendance")
    assert "result" not in subject and "creditsEarned" not in subject
    assert "creditsAvailable" not in achievement and "resultDescription" not in achievement
    assert "no claim of assessment" in achievement["description"]
    assert subject["narrative"] == "Attended 5 of 6 contact sessions."
    assert ob3_schema_errors(row.document) == []
    events = await staged_events(issuer.engine, tables.outbox)
    assert [e["type"] for e in events] == ["credstack.issuer.CertificateOfAttendanceIssued.v1"]


async def test_each_kind_conforms_to_the_ob3_schema_and_verifies_with_digital_bazaar(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    require_node()
    item, ada = micro_credential(), Learner()
    passing, attending = ada.confirmed(item), ada.confirmed(micro_credential())
    await deliver_all(issuer, item, passing, passed(passing))
    await deliver_all(
        issuer, micro_credential(micro_credential_id=attending.micro_credential_id), attending
    )
    await deliver(issuer.app, attended(attending))

    rows = await issued(issuer)
    assert sorted(row.kind for row in rows) == ["attendance", "micro-credential"]
    for row in rows:
        response = await issuer.http.get(f"/credentials/{row.id}")
        assert response.headers["content-type"].startswith("application/vc+ld+json")
        credential = response.json()
        assert ob3_schema_errors(credential) == []
        documents = await verifier_documents(issuer, credential)
        verdict = verify_with_digitalbazaar(credential, documents)
        assert verdict["verified"] is True, verdict
        assert verdict["statusResult"]["results"][0]["status"] is False
        tampered = {**credential, "name": "Something Else"}
        assert verify_with_digitalbazaar(tampered, documents)["verified"] is False


async def test_staff_list_an_enrolment_s_credentials(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment))
    params = {"enrolment_id": str(enrolment.enrolment_id)}

    page = (await issuer.http.get("/credentials", params=params, headers=tokens("staff"))).json()
    [summary] = page["items"]
    assert page["next_cursor"] is None
    assert summary["kind"] == "micro-credential" and summary["status"] == "active"
    assert summary["page"].endswith(f"/verify/{summary['id']}")
    assert (await issuer.http.get("/credentials", params=params)).status_code == 401
    learner = tokens("learner", ada.subject)
    assert (
        await issuer.http.get("/credentials", params=params, headers=learner)
    ).status_code == 403


async def test_staff_page_through_an_enrolment_s_credentials_in_issue_order(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, attended(enrolment), passed(enrolment))
    params: dict[str, str | int] = {"enrolment_id": str(enrolment.enrolment_id), "limit": 1}
    staff = tokens("staff")

    first = (await issuer.http.get("/credentials", params=params, headers=staff)).json()
    params["cursor"] = first["next_cursor"]
    second = (await issuer.http.get("/credentials", params=params, headers=staff)).json()

    kinds = [s["kind"] for s in first["items"] + second["items"]]
    assert kinds == ["attendance", "micro-credential"]
    assert second["next_cursor"] is None
    params["cursor"] = "not-a-cursor"
    refused = await issuer.http.get("/credentials", params=params, headers=staff)
    assert refused.status_code == 400


async def test_a_credential_is_issued_at_the_time_of_the_event_that_completed_it(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment)
    published_at = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
    consumer = issuer.app.state.consumer
    grade = passed(enrolment)
    late = replace(received(grade), time=published_at)

    await consumer.apply(late, consumer.handlers[type(grade)])

    [row] = await issued(issuer)
    assert row.issued_at == published_at
    assert row.document["validFrom"] == "2031-05-04T12:00:00Z"


async def test_an_unknown_credential_is_a_404_problem(issuer: ServiceUnderTest) -> None:
    for path in ("", "/jwt", "/image.png", "/image.svg", "/ob2.png", "/certificate.pdf"):
        response = await issuer.http.get(f"/credentials/{uuid4()}{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
    api = await issuer.http.get(f"/verify/{uuid4()}")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    browser = await issuer.http.get(
        f"/verify/{uuid4()}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert browser.status_code == 404 and browser.headers["content-type"].startswith("text/html")
    assert "<h1>Credential not found</h1>" in browser.text
    assert (await issuer.http.get(f"/ob2/assertions/{uuid4()}")).status_code == 404


async def test_a_withdrawn_attendance_result_revokes_the_certificate_of_attendance_only(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, attended(enrolment))
    await deliver(issuer.app, withdrawn(enrolment, "attendance corrected", "attendance_only"))
    await deliver(issuer.app, passed(enrolment))

    certificate, badge = await issued(issuer)
    assert (certificate.kind, certificate.status) == ("attendance", "revoked")
    assert (badge.kind, badge.status) == ("micro-credential", "active")
