"""Revocation and suspension by Bitstring Status List: lists, indexes, staff actions."""

import asyncio
import itertools
from typing import Any
from uuid import uuid4

import pytest

from credstack.clock import now
from credstack.testing import ServiceUnderTest, Tokens, deliver, staged_events
from issuer import tables
from issuer.standards import bitstring_status_list
from issuer.usecases import status_lists
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar

from ..events import Learner, micro_credential, passed, withdrawn
from .conftest import deliver_all, issued, verifier_documents


async def one_credential(issuer: ServiceUnderTest, learner: Learner | None = None) -> Any:
    item, who = micro_credential(), learner or Learner()
    enrolment = who.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment))
    return (await issued(issuer))[-1], enrolment


async def status_events(issuer: ServiceUnderTest) -> list[str]:
    return [
        e["type"].split(".")[2]
        for e in await staged_events(issuer.engine, tables.outbox)
        if "Credential" in e["type"] and "Issued" not in e["type"]
    ]


async def test_a_withdrawn_result_revokes_the_credential_and_digital_bazaar_sees_it(
    issuer: ServiceUnderTest,
) -> None:
    require_node()
    row, enrolment = await one_credential(issuer)

    await deliver(issuer.app, withdrawn(enrolment, "regraded"))

    [revoked] = await issued(issuer)
    assert revoked.status == "revoked" and revoked.status_reason == "Result withdrawn: regraded"
    assert await status_events(issuer) == ["CredentialRevoked"]
    documents = await verifier_documents(issuer, row.document)
    verdict = verify_with_digitalbazaar(row.document, documents)
    assert verdict["statusResult"]["results"][0]["status"] is True, verdict


async def test_a_result_withdrawn_before_issuing_means_it_is_never_issued(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, enrolment, passed(enrolment), withdrawn(enrolment))
    await deliver(issuer.app, item)
    assert await issued(issuer) == []


async def test_status_lists_are_signed_big_enough_and_from_the_credentials_issuer(
    issuer: ServiceUnderTest,
) -> None:
    require_node()
    row, _ = await one_credential(issuer)
    entry = row.document["credentialStatus"]
    response = await issuer.http.get(entry["statusListCredential"])

    assert response.status_code == 200
    status_list = response.json()
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["issuer"] == row.document["issuer"]["id"]
    subject = status_list["credentialSubject"]
    assert entry["statusPurpose"] == subject["statusPurpose"] == "suspension"
    assert (
        bitstring_status_list.is_set(subject["encodedList"], bitstring_status_list.LIST_SIZE - 1)
        is False
    )
    did = (await issuer.http.get("/.well-known/did.json")).json()
    assert verify_with_digitalbazaar(status_list, {did["id"]: did})["verified"] is True
    revocation = await issuer.http.get(
        entry["statusListCredential"].replace("suspension", "revocation")
    )
    assert revocation.json()["credentialSubject"]["statusPurpose"] == "revocation"
    assert (await issuer.http.get("/status-lists/1/other")).status_code == 404
    assert (await issuer.http.get("/status-lists/99/revocation")).status_code == 404


async def test_indexes_are_random_not_in_issue_order_and_never_shared(
    issuer: ServiceUnderTest,
) -> None:
    ada = Learner()
    for _ in range(6):
        await one_credential(issuer, ada)
    indexes = [
        int(row.document["credentialStatus"]["statusListIndex"]) for row in await issued(issuer)
    ]
    assert len(set(indexes)) == 6
    assert indexes != sorted(indexes) or max(indexes) - min(indexes) > 1000


async def test_transactions_drawing_the_same_index_at_once_each_end_with_their_own(
    issuer: ServiceUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = itertools.chain([7] * 20, itertools.count(100))
    monkeypatch.setattr(bitstring_status_list, "random_index", lambda: next(draws))
    issuing = issuer.app.state.issuer

    async def allocate() -> Any:
        async with issuer.engine.begin() as conn:
            return await status_lists.allocate(conn, issuing, uuid4(), at=now())

    entries = await asyncio.gather(*(allocate() for _ in range(10)))

    assert len({(e.list_url, e.index) for e in entries}) == 10
    assert 7 in {e.index for e in entries}


async def test_staff_suspend_reinstate_and_revoke_with_a_reason(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    row, _ = await one_credential(issuer)
    staff = tokens("staff")
    base = f"/credentials/{row.id}"

    suspended = await issuer.http.post(
        f"{base}/suspend", json={"reason": "under investigation"}, headers=staff
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    verdict = (await issuer.http.post("/verify", json=row.document)).json()
    assert verdict["verified"] is False
    assert {c["name"]: c for c in verdict["checks"]}["status"]["detail"] == "suspended"
    hosted = await issuer.http.get(f"/ob2/assertions/{row.id}")
    assert hosted.status_code == 200 and hosted.json()["revoked"] is True

    reinstated = await issuer.http.post(f"{base}/reinstate", headers=staff)
    assert reinstated.json()["status"] == "active"
    assert (await issuer.http.post("/verify", json=row.document)).json()["verified"] is True

    revoked = await issuer.http.post(
        f"{base}/revoke", json={"reason": "issued in error"}, headers=staff
    )
    assert revoked.json()["status"] == "revoked"
    assert (await issuer.http.get(f"/ob2/assertions/{row.id}")).status_code == 410
    assert await status_events(issuer) == [
        "CredentialSuspended",
        "CredentialReinstated",
        "CredentialRevoked",
    ]
    again = await issuer.http.post(f"{base}/reinstate", headers=staff)
    assert again.status_code == 409 and again.json()["type"].endswith("/status-change-refused")


async def test_the_public_assertion_gives_a_neutral_reason_never_the_staff_note(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    row, _ = await one_credential(issuer)
    staff = tokens("staff")
    base = f"/credentials/{row.id}"

    await issuer.http.post(
        f"{base}/suspend", json={"reason": "plagiarism suspected on re-marking"}, headers=staff
    )
    suspended = await issuer.http.get(f"/ob2/assertions/{row.id}")
    await issuer.http.post(
        f"{base}/revoke", json={"reason": "academic misconduct found"}, headers=staff
    )
    revoked = await issuer.http.get(f"/ob2/assertions/{row.id}")
    page = await issuer.http.get(f"/verify/{row.id}")

    assert suspended.json()["revocationReason"] == "Suspended by the issuer pending review."
    assert revoked.json()["revocationReason"] == "Withdrawn by the issuer."
    for public in (suspended, revoked, page):
        assert "misconduct" not in public.text and "plagiarism" not in public.text


async def test_status_changes_are_refused_clearly_and_change_nothing(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    row, _ = await one_credential(issuer)
    base = f"/credentials/{row.id}"
    reason = {"reason": "under investigation"}

    assert (await issuer.http.post(f"{base}/revoke", json=reason)).status_code == 401
    learner = tokens("learner")
    assert (
        await issuer.http.post(f"{base}/revoke", json=reason, headers=learner)
    ).status_code == 403
    staff = tokens("staff")
    missing = await issuer.http.post(f"{base}/revoke", json={}, headers=staff)
    assert missing.status_code == 422
    unknown = await issuer.http.post(f"/credentials/{uuid4()}/revoke", json=reason, headers=staff)
    assert unknown.status_code == 404
    active = await issuer.http.post(f"{base}/reinstate", headers=staff)
    assert active.status_code == 409

    [unchanged] = await issued(issuer)
    assert unchanged.status == "active" and await status_events(issuer) == []
