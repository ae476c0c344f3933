"""A consumer batch's credentials are signed together, before the batch commits."""

from typing import Any

import pytest
from sqlalchemy import func, select

from credstack.contracts.envelope import Event, Received
from credstack.testing import ServiceUnderTest, received, staged_events
from issuer import tables
from issuer.keys import Signing
from issuer.standards import data_integrity
from issuer.standards.jsonld import OfflineDocumentLoader

from ..events import Learner, micro_credential, passed
from .conftest import issued


async def apply_batch(issuer: ServiceUnderTest, batch: list[Received]) -> list[str]:
    """Apply ``batch`` as the consumer applies what one fetch brought (one transaction)."""
    consumer = issuer.app.state.consumer
    return list(
        await consumer.apply_batch([(r, consumer.handlers[type(r.event)], None) for r in batch])
    )


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many documents each `Signing.sign_each` call signed; `sign_async` (one at a
    time) must not be used inside a batch."""
    calls: list[int] = []
    sign_each = Signing.sign_each

    async def counted(self: Signing, documents: Any) -> list[dict[str, Any]]:
        calls.append(len(documents))
        return await sign_each(self, documents)

    async def one_at_a_time(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a batch's credential was signed on its own")

    monkeypatch.setattr(Signing, "sign_each", counted)
    monkeypatch.setattr(Signing, "sign_async", one_at_a_time)
    return calls


def verifies(issuer: ServiceUnderTest, document: dict[str, Any]) -> bool:
    keys = issuer.app.state.issuer.signing.keys
    return data_integrity.verify(
        document, public_key_for=keys.public_key, loader=OfflineDocumentLoader()
    )


async def test_a_batch_of_passes_is_signed_together_and_each_credential_verifies(
    issuer: ServiceUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = micro_credential()
    enrolments = [Learner().confirmed(item) for _ in range(6)]
    batch = [
        received(e) for e in [item, *enrolments, *(passed(enrolment) for enrolment in enrolments)]
    ]
    calls = counting(monkeypatch)

    assert await apply_batch(issuer, batch) == ["applied"] * len(batch)

    assert calls == [6]
    rows = await issued(issuer)
    assert sorted(r.enrolment_id for r in rows) == sorted(e.enrolment_id for e in enrolments)
    assert all(verifies(issuer, r.document) for r in rows)
    events = [e for e in await staged_events(issuer.engine, tables.outbox)]
    announced = [e["data"]["credential_id"] for e in events if "CredentialIssued" in e["type"]]
    assert sorted(announced) == sorted(str(r.id) for r in rows)

    # the batch redelivered: nothing applied twice; the passes again under new ids: no
    # second credential for any enrolment
    assert await apply_batch(issuer, batch) == ["duplicate"] * len(batch)
    again = [received(passed(enrolment)) for enrolment in enrolments]
    assert await apply_batch(issuer, again) == ["applied"] * len(again)
    assert calls == [6]
    assert [r.id for r in await issued(issuer)] == [r.id for r in rows]


async def test_a_regrade_in_the_same_batch_supersedes_a_credential_not_yet_signed(
    issuer: ServiceUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    calls = counting(monkeypatch)
    batch = [item, enrolment, passed(enrolment), passed(enrolment, score="92")]

    await apply_batch(issuer, [received(e) for e in batch])

    assert calls == [2]
    first, second = await issued(issuer)
    assert (first.status, second.status) == ("revoked", "active")
    assert second.document["credentialSubject"]["result"][0]["value"] == "92"
    assert verifies(issuer, first.document) and verifies(issuer, second.document)


async def test_a_batch_whose_signing_fails_leaves_nothing_and_is_applied_one_by_one(
    issuer: ServiceUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = micro_credential()
    enrolments = [Learner().confirmed(item) for _ in range(3)]
    events: list[Event] = [item, *enrolments, *(passed(e) for e in enrolments)]
    batch = [received(e) for e in events]

    async def broken(self: Signing, documents: Any) -> None:
        raise RuntimeError("signing worker died")

    with monkeypatch.context() as patched:
        patched.setattr(Signing, "sign_each", broken)
        with pytest.raises(RuntimeError, match="worker died"):
            await apply_batch(issuer, batch)
    assert await issued(issuer) == []
    async with issuer.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.inbox.table)) == 0

    consumer = issuer.app.state.consumer
    for one in batch:  # the consumer's fall-back: each in its own transaction
        assert await consumer.apply(one, consumer.handlers[type(one.event)]) == "applied"
    rows = await issued(issuer)
    assert len(rows) == 3 and all(verifies(issuer, r.document) for r in rows)
