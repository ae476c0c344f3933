"""Staff status changes and signing key rotations are recorded in the audit log, in the
action's own transaction."""

import asyncio
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credstack.clock import now
from credstack.testing import ServiceUnderTest, Tokens, audit_entries, fail_after_audit
from issuer import tables
from issuer.keys import IssuerKeys
from issuer.usecases.signing_keys import record_key_in_use

from .conftest import issued
from .test_status import one_credential, status_events


async def entries(issuer: ServiceUnderTest, target_type: str) -> list[dict[str, Any]]:
    found = await audit_entries(issuer.engine, tables.audit)
    return [e for e in found if e["target_type"] == target_type]


async def test_suspend_reinstate_and_revoke_are_recorded_with_who_and_why(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    row, _ = await one_credential(issuer)
    base = f"/credentials/{row.id}"
    registrar = tokens("staff", "registrar-2")

    await issuer.http.post(f"{base}/suspend", json={"reason": "under review"}, headers=registrar)
    await issuer.http.post(f"{base}/reinstate", headers=registrar)
    await issuer.http.post(f"{base}/revoke", json={"reason": "issued in error"}, headers=registrar)

    recorded = await entries(issuer, "credential")
    assert [(e["action"], e["actor"], e["target_id"], e["reason"]) for e in recorded] == [
        ("credential.suspend", "registrar-2", str(row.id), "under review"),
        ("credential.reinstate", "registrar-2", str(row.id), "Reinstated"),
        ("credential.revoke", "registrar-2", str(row.id), "issued in error"),
    ]


async def test_a_revocation_and_its_entry_roll_back_together(
    issuer: ServiceUnderTest, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    row, _ = await one_credential(issuer)
    inserted = fail_after_audit(monkeypatch, tables.audit)

    failed = await issuer.http.post(
        f"/credentials/{row.id}/revoke", json={"reason": "issued in error"}, headers=tokens("staff")
    )

    assert failed.status_code == 503 and len(inserted) == 1
    assert await entries(issuer, "credential") == []
    [still] = await issued(issuer)
    assert still.status == "active"
    assert await status_events(issuer) == []


async def test_a_new_signing_key_is_recorded_once_as_a_rotation(issuer: ServiceUnderTest) -> None:
    first = IssuerKeys(did="did:web:issuer.example", private_keys=(Ed25519PrivateKey.generate(),))
    rotated = IssuerKeys(
        did=first.did, private_keys=(*first.private_keys, Ed25519PrivateKey.generate())
    )

    await asyncio.wait_for(issuer.app.state.signing_key_recorded.wait(), 10)
    recorded = []
    for keys in (first, first, rotated, rotated):
        async with issuer.engine.begin() as conn:
            recorded.append(await record_key_in_use(conn, keys, at=now()))

    assert recorded == [True, False, True, False]
    keys_recorded = await entries(issuer, "signing-key")
    assert [e["target_id"] for e in keys_recorded][-2:] == [
        "did:web:issuer.example#key-1",
        "did:web:issuer.example#key-2",
    ]
    assert keys_recorded[-1]["actor"] == "configuration"
    assert (
        keys_recorded[-1]["details"]["previous_public_key"]
        == (keys_recorded[-2]["details"]["public_key"])
    )
