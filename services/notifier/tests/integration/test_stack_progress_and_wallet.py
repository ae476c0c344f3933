"""Stack progress ("2 of 4 in this series") when a member's credential is issued, by the
learner page's own rule; and the wallet claim links in the credential email, from the
issuer's offer on `issuer.claims`."""

from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import func, select

from credstack.contracts.catalogue import StackPublished
from credstack.contracts.enrolment import LearnerErased
from credstack.contracts.issuer import CredentialRevoked, StackCredentialIssued
from credstack.testing import ServiceUnderTest, deliver
from notifier import mail, tables
from notifier.domain import Kind
from notifier.usecases import sending

from ..events import NOW, Learner, micro_credential
from .conftest import deliver_all, inbox_of, messages, send_all, sender_to


def _series(*members: Any, required: int | None = None) -> StackPublished:
    return StackPublished(
        stack_id=uuid4(),
        version=1,
        code=f"MC-S{uuid4().hex[:4]}",
        title="Data for Decisions",
        description="A series",
        kind="series",
        members=[m.micro_credential_id for m in members],
        required_count=required,
        credit_points=7.5,
        published_at=NOW,
    )


async def _progress(notifier: ServiceUnderTest) -> list[tuple[int, int]]:
    return [
        (r.facts["held"], r.facts["required"])
        for r in await messages(notifier)
        if r.kind == Kind.STACK_PROGRESS
    ]


async def test_each_member_issued_tells_the_learner_their_progress_once_until_complete(
    notifier: ServiceUnderTest, sink: mail.MailSink, tokens: Any
) -> None:
    ada = Learner()
    a, b, c = micro_credential(), micro_credential(), micro_credential()
    series = _series(a, b, c)
    await deliver_all(notifier, ada.contact(), a, b, c, series)

    first = ada.issued(a, uuid4())
    event_id = uuid4()
    await deliver(notifier.app, first, event_id=event_id)
    await deliver(notifier.app, first, event_id=event_id)  # redelivered
    await deliver(notifier.app, first)  # re-published
    assert await _progress(notifier) == [(1, 3)]

    await deliver(notifier.app, ada.issued(b, uuid4()))
    assert await _progress(notifier) == [(1, 3), (2, 3)]
    # the learner page shows the same progress (one rule for both)
    page = (
        await notifier.http.get("/learners/me/page", headers=tokens("learner", ada.subject))
    ).json()
    assert [(s["held"], s["required"]) for s in page["stacks"]] == [(2, 3)]

    # the last member completes it: the stack's own credential tells it, not a "3 of 3"
    last = ada.issued(c, uuid4())
    await deliver_all(
        notifier,
        last,
        StackCredentialIssued(
            credential_id=uuid4(),
            learner_id=ada.id,
            stack_id=series.stack_id,
            stack_version=1,
            member_credential_ids=[first.credential_id, last.credential_id],
            url="http://localhost:8004/credentials/s",
            issued_at=NOW,
        ),
    )
    assert await _progress(notifier) == [(1, 3), (2, 3)]

    await send_all(notifier, sink)
    subjects = [m.headers["subject"] for m in inbox_of(sink)]
    assert "1 of 3 in Data for Decisions" in subjects
    assert "2 of 3 in Data for Decisions" in subjects
    assert "You completed the series: Data for Decisions" in subjects
    two = next(m for m in inbox_of(sink) if m.headers["subject"].startswith("2 of 3"))
    assert "Earn 1 more" in two.text


async def test_a_revoked_member_does_not_count_and_a_credential_outside_any_stack_says_nothing(
    notifier: ServiceUnderTest,
) -> None:
    ada = Learner()
    a, b, c, other = micro_credential(), micro_credential(), micro_credential(), micro_credential()
    await deliver_all(notifier, ada.contact(), a, b, c, other, _series(a, b, c, required=2))
    revoked = ada.issued(a, uuid4())
    await deliver_all(
        notifier,
        revoked,
        CredentialRevoked(
            credential_id=revoked.credential_id, learner_id=ada.id, reason="x", revoked_at=NOW
        ),
        ada.issued(other, uuid4()),
    )
    assert await _progress(notifier) == [(1, 2)]  # from the first, before its revocation
    await deliver(notifier.app, ada.issued(b, uuid4()))
    # b is the only member held now (a was revoked): a second "1 of 2" is the same step
    assert await _progress(notifier) == [(1, 2)]


async def _credential_email(notifier: ServiceUnderTest) -> Any:
    [row] = [r for r in await messages(notifier) if r.kind == Kind.CREDENTIAL_ISSUED]
    return row


async def test_the_credential_email_waits_for_the_wallet_offer_and_carries_its_links(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    ada = Learner()
    course = micro_credential()
    await deliver_all(notifier, ada.contact(), course)
    issued = ada.issued(course, uuid4(), wallet_claim_offered=True)
    await deliver(notifier.app, issued)

    await send_all(notifier, sink)  # the offer travels on another topic: not here yet
    row = await _credential_email(notifier)
    assert row.sent_at is None and row.last_error == "waiting for the wallet claim offer"
    assert inbox_of(sink) == []

    offer = ada.claim_offered(issued, "s3cret-code")
    event_id = uuid4()
    await deliver(notifier.app, offer, event_id=event_id)
    await deliver(notifier.app, offer, event_id=event_id)  # redelivered
    await send_all(notifier, sink)  # the offer wakes the email: no 30 s wait

    [email] = inbox_of(sink)
    assert email.headers["message_id"] == f"<{row.id}@localhost>"
    assert offer.page_url in email.text  # the issuer's page with the claim's QR code
    assert offer.credential_offer in email.text  # for a wallet on the same device
    assert (offer.expires_at.date().isoformat()) in email.text
    # (both are links in the HTML part: tests/unit/test_compose.py)


async def test_an_offer_arriving_first_is_used_and_one_that_never_comes_is_not_waited_for(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    ada, bea = Learner(), Learner()
    course = micro_credential()
    early = ada.issued(course, uuid4(), wallet_claim_offered=True)
    never = bea.issued(course, uuid4(), wallet_claim_offered=True)
    await deliver_all(
        notifier,
        ada.contact(),
        bea.contact(),
        course,
        ada.claim_offered(early, "early"),
        early,
        never,
    )
    impatient = replace(sender_to(mail.SmtpTarget("127.0.0.1", sink.port)), claim_wait=timedelta(0))
    await sending.send_pending(notifier.engine, impatient)
    sent = {m.headers["to"]: m for m in inbox_of(sink)}
    assert "?claim=early" in sent[ada.email].text
    assert "claim=" not in sent[bea.email].text  # sent without: no link is better than none
    assert "openid-credential-offer" not in sent[bea.email].text


async def test_an_erased_learner_s_wallet_offer_is_deleted(notifier: ServiceUnderTest) -> None:
    ada = Learner()
    course = micro_credential()
    issued = ada.issued(course, uuid4(), wallet_claim_offered=True)
    await deliver_all(notifier, ada.contact(), course, issued, ada.claim_offered(issued, "x"))
    await deliver(notifier.app, LearnerErased(learner_id=ada.id, erased_at=NOW))
    async with notifier.engine.connect() as conn:
        left = await conn.scalar(select(func.count()).select_from(tables.wallet_claim))
    assert left == 0
