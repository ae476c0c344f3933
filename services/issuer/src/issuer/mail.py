"""Email to learners, sent from the ``email`` outbox table through an SMTP port.

The message row is written in the transaction that issues the credential, so a crash
never loses it; the sender (``send_pending``) delivers each row and marks it sent in its
own transaction. A crash between delivery and the mark sends that one message again,
with the same ``Message-ID`` (the row id), which receivers use to drop the duplicate;
the dev stack's sink (``MailSink``) stores each Message-ID once.

Without ``ISSUER_SMTP_HOST`` (the dev stack) the issuer runs that sink itself on a free
local port and keeps every message in ``<data dir>/mailbox/`` as an ``.eml`` file, which
staff can also read at ``GET /admin/mailbox``.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aiosmtplib
import structlog
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now
from credstack.engines import free_port
from issuer.domain import Kind
from issuer.tables import email as outgoing

log = structlog.get_logger()

#: Messages tried per sender pass; each is sent and marked in its own transaction.
BATCH = 20


@dataclass(frozen=True)
class Message:
    message_id: UUID
    subject: str
    text: str
    html: str


def credential_issued(
    *,
    credential_id: UUID,
    kind: Kind,
    title: str,
    learner_name: str,
    page_url: str,
    issuer_name: str,
) -> Message:
    """The learner's notice that a credential was issued, with its verification page."""
    what = {
        Kind.MICRO_CREDENTIAL: "micro-credential",
        Kind.ATTENDANCE: "certificate of attendance",
        Kind.STACK: "stack credential",
    }[kind]
    text = (
        f"Dear {learner_name},\n\n"
        f"{issuer_name} has issued your {what}: {title}.\n\n"
        f"View, verify, download or share it (LinkedIn, email signature) here:\n{page_url}\n\n"
        "It is an Open Badges 3.0 verifiable credential: anyone can check it, now or years "
        "from now, without contacting us.\n"
    )
    body = (
        f"<p>Dear {html.escape(learner_name)},</p>"
        f"<p>{html.escape(issuer_name)} has issued your {what}: "
        f"<strong>{html.escape(title)}</strong>.</p>"
        f'<p><a href="{html.escape(page_url)}">View, verify, download or share it</a>.</p>'
        "<p>It is an Open Badges 3.0 verifiable credential: anyone can check it, now or years "
        "from now, without contacting us.</p>"
    )
    return Message(uuid4(), f"Your {what}: {title}", text, body)


async def stage(
    conn: AsyncConnection, message: Message, *, credential_id: UUID, to: str, at: datetime
) -> None:
    """Keep ``message`` for the sender loop, in the caller's transaction (an outbox)."""
    await conn.execute(
        outgoing.insert().values(
            id=message.message_id,
            credential_id=credential_id,
            to_address=to,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            created_at=at,
        )
    )


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    start_tls: bool = False


def _email_message(row: Any, *, sender: str, domain: str) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = f"<{row.id}@{domain}>"
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    return message


async def send_pending(engine: AsyncEngine, target: SmtpTarget, *, sender: str, domain: str) -> int:
    """Send pending messages, oldest first; returns how many were sent.

    Rows are locked with SKIP LOCKED, so several replicas share the work; a failure is
    recorded on the row (``attempts``, ``last_error``) and retried on the next pass.
    """
    sent = 0
    for _ in range(BATCH):
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    select(outgoing)
                    .where(outgoing.c.sent_at.is_(None))
                    .order_by(outgoing.c.attempts, outgoing.c.created_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if row is None:
                return sent
            try:
                await aiosmtplib.send(
                    _email_message(row, sender=sender, domain=domain),
                    hostname=target.host,
                    port=target.port,
                    username=target.username,
                    password=target.password,
                    start_tls=target.start_tls,
                    timeout=30,
                )
            except (aiosmtplib.SMTPException, OSError) as error:
                log.warning("email.send_failed", email_id=str(row.id), error=str(error))
                await conn.execute(
                    update(outgoing)
                    .where(outgoing.c.id == row.id)
                    .values(attempts=row.attempts + 1, last_error=str(error))
                )
                return sent
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.id == row.id)
                .values(sent_at=now(), attempts=row.attempts + 1, last_error=None)
            )
            sent += 1
    return sent


async def sender_loop(
    engine: AsyncEngine, target: SmtpTarget, *, sender: str, domain: str, poll_seconds: float
) -> None:
    while True:
        sent = await send_pending(engine, target, sender=sender, domain=domain)
        if sent < BATCH:
            await asyncio.sleep(poll_seconds)


class _Mailbox:
    """aiosmtpd handler: one ``.eml`` file per Message-ID (a resent message is stored once)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)
        message_id = str(parsed.get("Message-ID", "")).strip("<>") or str(uuid4())
        path = self.folder / f"{message_id.replace('/', '_')}.eml"
        if not path.exists():
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(envelope.content)
            temporary.replace(path)
        return "250 Message accepted"


class MailSink:
    """The dev stack's SMTP server: accepts everything, keeps it in a mailbox folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._controller = Controller(_Mailbox(folder), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class ReceivedMessage:
    """A message in the sink's mailbox; ``key`` orders the mailbox, newest first."""

    key: tuple[int, str]
    headers: dict[str, str]
    text: str

    def as_json(self) -> dict[str, str]:
        return {**self.headers, "text": self.text}


def read_mailbox(
    folder: Path, *, before: tuple[Any, ...] | None = None, limit: int | None = None
) -> list[ReceivedMessage]:
    """The messages in a sink's mailbox folder, newest first (those after ``before``)."""
    keyed = sorted(((path.stat().st_mtime_ns, path.name), path) for path in folder.glob("*.eml"))
    keyed.reverse()
    if before is not None:
        keyed = [(key, path) for key, path in keyed if key < tuple(before)]
    messages = []
    for key, path in keyed[:limit]:
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        text = parsed.get_body(preferencelist=("plain",))
        headers = {
            "message_id": str(parsed["Message-ID"]),
            "from": str(parsed["From"]),
            "to": str(parsed["To"]),
            "subject": str(parsed["Subject"]),
            "date": str(parsed["Date"]),
        }
        messages.append(
            ReceivedMessage(key, headers, text.get_content() if text is not None else "")
        )
    return messages
