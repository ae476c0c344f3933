from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from credstack.contracts.envelope import Event
from credstack.testing import ServiceUnderTest, Tokens, deliver, running_service, service_settings
from notifier import mail, tables
from notifier.main import create_app
from notifier.settings import Settings
from notifier.usecases import sending

PUBLIC_URL = "http://localhost:8006"


@pytest.fixture
async def notifier(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[ServiceUnderTest]:
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url=PUBLIC_URL,
    )
    async for service in running_service(create_app, settings, tables.metadata, "notifier"):
        yield service


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[mail.MailSink]:
    running = mail.MailSink(tmp_path / "sink")
    running.start()
    yield running
    running.stop()


def sender_to(target: mail.SmtpTarget, max_attempts: int = 3) -> sending.Sender:
    return sending.Sender(
        target=target,
        sender="Credstack <learners@credstack.dev>",
        domain="localhost",
        links=sending.Links(
            PUBLIC_URL, "http://localhost:8001", "http://localhost:8004", "Credstack University"
        ),
        max_attempts=max_attempts,
    )


async def send_all(notifier: ServiceUnderTest, sink: mail.MailSink) -> int:
    return await sending.send_pending(
        notifier.engine, sender_to(mail.SmtpTarget("127.0.0.1", sink.port))
    )


def inbox_of(sink: mail.MailSink) -> list[mail.ReceivedMessage]:
    """What the sink received, oldest first."""
    return list(reversed(mail.read_mailbox(sink.folder)))


async def deliver_all(notifier: ServiceUnderTest, *events: Event) -> None:
    for event in events:
        await deliver(notifier.app, event)


async def messages(notifier: ServiceUnderTest) -> list[Any]:
    async with notifier.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.message).order_by(tables.message.c.created_at, tables.message.c.id)
        )
        return list(rows)
