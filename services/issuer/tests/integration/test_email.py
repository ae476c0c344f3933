"""Email to learners from the outbox table: never lost, never doubled."""

from pathlib import Path

from sqlalchemy import select, update

from credstack.testing import ServiceUnderTest, Tokens
from issuer import mail, tables

from ..events import Learner, micro_credential, passed
from .conftest import deliver_all, issued


async def test_issuing_writes_the_email_in_the_same_transaction_and_the_sender_delivers_it_once(
    issuer: ServiceUnderTest, tokens: Tokens, tmp_path: Path
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment))
    [row] = await issued(issuer)
    sink = mail.MailSink(tmp_path / "mailbox")
    sink.start()
    try:
        target = mail.SmtpTarget("127.0.0.1", sink.port)
        sent = await mail.send_pending(issuer.engine, target, sender="c@credstack.dev", domain="x")
        assert sent == 1
        assert await mail.send_pending(issuer.engine, target, sender="c@x", domain="x") == 0

        # a crash after delivering but before marking it sent: it is sent again, same id
        async with issuer.engine.begin() as conn:
            await conn.execute(update(tables.email).values(sent_at=None))
        assert await mail.send_pending(issuer.engine, target, sender="c@x", domain="x") == 1
    finally:
        sink.stop()

    [received] = mail.read_mailbox(tmp_path / "mailbox")
    message = received.as_json()
    assert message["to"] == "ada@example.org"
    assert message["subject"] == "Your micro-credential: Data Cleaning"
    assert f"http://localhost:8004/verify/{row.id}" in message["text"]
    async with issuer.engine.connect() as conn:
        [stored] = (await conn.execute(select(tables.email))).all()
    assert message["message_id"] == f"<{stored.id}@x>"


async def test_an_unreachable_smtp_server_keeps_the_message_for_the_next_pass(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment))
    nowhere = mail.SmtpTarget("127.0.0.1", 9)  # discard port: nothing listens

    assert await mail.send_pending(issuer.engine, nowhere, sender="c@x", domain="x") == 0

    async with issuer.engine.connect() as conn:
        [pending] = (await conn.execute(select(tables.email))).all()
    assert pending.sent_at is None and pending.attempts == 1 and pending.last_error


async def test_staff_read_the_dev_mailbox_and_only_staff(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    assert (await issuer.http.get("/admin/mailbox", headers=tokens("staff"))).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert (await issuer.http.get("/admin/mailbox", headers=tokens("learner"))).status_code == 403
