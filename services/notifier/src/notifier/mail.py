"""Email transport: SMTP through ``aiosmtplib``, and the dev stack's mail sink.

Without ``NOTIFIER_SMTP_HOST`` (the dev stack only) the notifier runs the sink itself on a
free local port and keeps every message in ``<data dir>/mailbox/`` as an ``.eml`` file, one
per Message-ID (a message sent again is stored once), which staff read at
``GET /admin/mailbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiosmtplib
from aiosmtpd.controller import Controller

from credstack.engines import free_port


@dataclass(frozen=True)
class Outgoing:
    """One email as it leaves: the Message-ID is the message row's id, so a retry after a
    crash between sending and marking is recognised as the same email by receivers."""

    message_id: str
    sender: str
    to: str
    subject: str
    text: str
    html: str
    date: Any
    unsubscribe_url: str | None = None

    def as_email(self) -> EmailMessage:
        message = EmailMessage()
        message["Message-ID"] = self.message_id
        message["From"] = self.sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = format_datetime(self.date)
        if self.unsubscribe_url:
            # RFC 8058 one-click unsubscribe: mail clients POST to the URL.
            message["List-Unsubscribe"] = f"<{self.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    start_tls: bool = False


async def send(target: SmtpTarget, outgoing: Outgoing) -> None:
    """Hand one email to the SMTP server; raises ``aiosmtplib.SMTPException`` or
    ``OSError`` when it is not accepted."""
    await aiosmtplib.send(
        outgoing.as_email(),
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        start_tls=target.start_tls,
        timeout=30,
    )


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
    return [_received(key, path) for key, path in keyed[:limit]]


@lru_cache(maxsize=4096)
def _received(key: tuple[int, str], path: Path) -> ReceivedMessage:
    """One .eml file, parsed once: a client polling the mailbox reads the same ones again."""
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    text = parsed.get_body(preferencelist=("plain",))
    headers = {
        "message_id": str(parsed["Message-ID"]),
        "from": str(parsed["From"]),
        "to": str(parsed["To"]),
        "subject": str(parsed["Subject"]),
        "date": str(parsed["Date"]),
    }
    return ReceivedMessage(key, headers, text.get_content() if text is not None else "")
