"""Stream tickets: a browser's `EventSource` cannot send a bearer token, so a staff token
buys a short-lived ticket (HMAC-signed, the same secret on every replica) for `?ticket=`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from credstack.refusals import Reason, Refusal


class InvalidTicket(Refusal):
    code = "invalid-ticket"
    reason = Reason.UNAUTHENTICATED


@dataclass(frozen=True)
class Ticket:
    subject: str
    scopes: frozenset[str]
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def issue(
    secret: str, *, subject: str, scopes: frozenset[str], now: datetime, seconds: int
) -> tuple[str, Ticket]:
    ticket = Ticket(subject=subject, scopes=scopes, expires_at=now + timedelta(seconds=seconds))
    body = _b64(
        json.dumps(
            {
                "sub": subject,
                "scope": " ".join(sorted(scopes)),
                "exp": int(ticket.expires_at.timestamp()),
            },
            separators=(",", ":"),
        ).encode()
    )
    return f"{body}.{_sign(secret, body)}", ticket


def verify(secret: str, token: str, *, now: datetime) -> Ticket:
    body, _, signature = token.partition(".")
    if not signature or not hmac.compare_digest(_sign(secret, body), signature):
        raise InvalidTicket("The stream ticket is not one this dashboard gave out.")
    try:
        claims = json.loads(_unb64(body))
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
        ticket = Ticket(str(claims["sub"]), frozenset(str(claims["scope"]).split()), expires_at)
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidTicket("The stream ticket is malformed.") from error
    if ticket.expires_at <= now:
        raise InvalidTicket("The stream ticket has expired: ask for a new one.")
    return ticket
