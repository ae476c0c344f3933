"""The email outbox's sender: renders each staged message in the reader's language with
what is known when it leaves (the learner's address, name and language may arrive after
the event that caused the message, on their own topic), sends it and marks it sent.

At least once: each message is sent and marked in its own transaction; a crash between
the two sends it again with the same Message-ID (the row id), which receivers (and the dev
sink) use to drop the duplicate. A failed attempt is recorded (`attempts`, `last_error`)
and retried on the next pass; after `NOTIFIER_MAX_ATTEMPTS` it is marked failed, for staff
to see and resend.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

import aiosmtplib
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from credstack.clock import now
from notifier import mail
from notifier.compose import Composed, compose
from notifier.domain import Kind
from notifier.repository import catalogue, credentials, email_outbox

log = structlog.get_logger()

#: Messages tried per pass; each is sent and marked in its own transaction.
BATCH = 20
#: How long a message whose title is not known yet waits before the next look.
WAIT = timedelta(seconds=30)


@dataclass(frozen=True)
class Links:
    """Where messages point: the notifier's own pages and the public catalogue."""

    public_url: str
    website_url: str
    issuer_url: str
    organisation: str

    @property
    def learner_page(self) -> str:
        return f"{self.public_url}/learner"

    def verification_page(self, credential_id: str) -> str:
        return f"{self.issuer_url}/verify/{credential_id}"

    def confirm(self, token: str) -> str:
        return f"{self.public_url}/interest/confirm?{urlencode({'token': token})}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.public_url}/unsubscribe?{urlencode({'token': token})}"


@dataclass(frozen=True)
class Sender:
    target: mail.SmtpTarget
    sender: str
    domain: str
    links: Links
    max_attempts: int
    claim_wait: timedelta = timedelta(minutes=10)
    """How long a credential email waits for its wallet claim offer (then leaves without)."""
    result_wait: timedelta = timedelta(0)
    """How long a credential email waits for its result message to go first (0: not)."""


@dataclass(frozen=True)
class Wait:
    """Not yet: what the message waits for (looked at again after `WAIT`)."""

    why: str


def _amount(cents: int, currency: str | None) -> str:
    return f"{currency or ''} {cents / 100:,.2f}".strip()


def _local(moment: str, zone: str) -> str:
    """An instant as the offering's local time, with its zone named."""
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def linkedin_url(title: str, organisation: str, url: str, credential_id: str, issued: str) -> str:
    """LinkedIn's "Add licence or certification" link, filled in."""
    at = datetime.fromisoformat(issued)
    fields = {
        "startTask": "CERTIFICATION_NAME",
        "name": title,
        "organizationName": organisation,
        "issueYear": at.year,
        "issueMonth": at.month,
        "certUrl": url,
        "certId": credential_id,
    }
    return "https://www.linkedin.com/profile/add?" + urlencode(fields)


async def _result_first(
    conn: AsyncConnection, row: Any, facts: dict[str, Any], at: datetime, wait: timedelta
) -> bool:
    """Whether a credential email must wait for its result message ("You passed") to go
    out first: they come from different topics, in no fixed order. It waits at most
    ``wait`` (as long as for the wallet offer), then goes anyway."""
    if row.kind != Kind.CREDENTIAL_ISSUED or not facts.get("enrolment_id"):
        return False
    if at >= row.created_at + wait:
        return False
    return not await email_outbox.result_sent(conn, facts["enrolment_id"])


async def _wallet(
    conn: AsyncConnection, row: Any, facts: dict[str, Any], at: datetime, claim_wait: timedelta
) -> dict[str, Any] | Wait:
    """The wallet claim links of a credential email: the issuer's page with the claim's QR
    code (a wallet on another device scans it) and the OpenID4VCI offer (a wallet on this
    device opens it). A credential whose offer is announced waits for it, up to
    ``claim_wait``; an expired offer is left out."""
    none: dict[str, Any] = {"wallet_url": None, "wallet_offer_url": None, "wallet_until": None}
    if not facts.get("wallet_claim"):
        return none
    claim = await credentials.wallet_claim_of(conn, UUID(facts["credential_id"]))
    if claim is None:
        if at < row.created_at + claim_wait:
            return Wait("waiting for the wallet claim offer")
        return none
    if claim.expires_at <= at:
        return none
    return {
        "wallet_url": claim.page_url,
        "wallet_offer_url": claim.credential_offer,
        "wallet_until": claim.expires_at.date().isoformat(),
    }


async def _offering_facts(
    conn: AsyncConnection,
    facts: dict[str, Any],
    links: Links,
    offering_id: UUID | None,
    micro_credential_id: UUID | None,
) -> dict[str, Any]:
    """Dates, deadlines and amounts in the offering's time zone, and where to enrol."""
    context: dict[str, Any] = {}
    if offering_id is not None:
        found = await catalogue.offering_of(conn, offering_id)
        if found is not None:
            context["starts_on"] = found.starts_on.isoformat()
            context["ends_on"] = found.ends_on.isoformat()
            zone = found.time_zone
            if "offer_expires_at" in facts:
                context["deadline"] = _local(facts["offer_expires_at"], zone)
            if "closes_at" in facts:
                context["closes_at"] = _local(facts["closes_at"], zone)
            if "paid_at" in facts:
                context["paid_at"] = _local(facts["paid_at"], zone)
            if "amount_cents" in facts:
                context["amount"] = _amount(
                    facts["amount_cents"], facts.get("currency") or found.currency
                )
            micro_credential_id = found.micro_credential_id
    if micro_credential_id is not None:
        code = await catalogue.code_of(conn, micro_credential_id)
        if code is not None:
            context["enrol_url"] = f"{links.website_url}/micro-credentials/{code}"
    return context


async def context_of(
    conn: AsyncConnection,
    row: Any,
    links: Links,
    *,
    at: datetime | None = None,
    claim_wait: timedelta = timedelta(0),
) -> tuple[dict[str, Any], str | None] | Wait:
    """The template's variables and the language of instruction of what the message is
    about; a Wait while its title (or a credential email's wallet offer) is not known."""
    facts: dict[str, Any] = dict(row.facts)

    def uuid(name: str) -> UUID | None:
        return UUID(facts[name]) if facts.get(name) else None

    title, taught_in = await catalogue.titles(
        conn,
        offering_id=uuid("offering_id"),
        micro_credential_id=uuid("micro_credential_id"),
        stack_id=uuid("stack_id"),
    )
    if title is None:
        return Wait("waiting for the catalogue's title")
    wallet = await _wallet(conn, row, facts, at or now(), claim_wait)
    if isinstance(wallet, Wait):
        return wallet
    context: dict[str, Any] = {
        **wallet,
        **facts,
        "title": title,
        "name": row.contact_name or "",
        "organisation": links.organisation,
        "learner_url": links.learner_page,
        "enrol_url": links.website_url,
    }
    context |= await _offering_facts(
        conn, facts, links, uuid("offering_id"), uuid("micro_credential_id")
    )
    if "valid_until" in facts:
        context["expires_on"] = datetime.fromisoformat(facts["valid_until"]).date().isoformat()
    if "token" in facts:
        context["confirm_url"] = links.confirm(facts["token"])
        context["unsubscribe_url"] = links.unsubscribe(facts["token"])
    if "credential_id" in facts:
        context["url"] = links.verification_page(facts["credential_id"])
        context["linkedin_url"] = linkedin_url(
            title,
            links.organisation,
            context["url"],
            facts["credential_id"],
            facts.get("issued_at") or row.created_at.isoformat(),
        )
    return context, taught_in


async def render(
    conn: AsyncConnection,
    row: Any,
    links: Links,
    *,
    at: datetime | None = None,
    claim_wait: timedelta = timedelta(0),
) -> Composed | Wait:
    """The message as it will leave, in the reader's language: their chosen one, else the
    one their contact details name, else the language the course is taught in (where a
    translation exists), else English."""
    found = await context_of(conn, row, links, at=at, claim_wait=claim_wait)
    if isinstance(found, Wait):
        return found
    context, taught_in = found
    return compose(
        Kind(row.kind),
        context,
        row.preferred_language,
        row.language,
        row.contact_language,
        taught_in,
    )


async def send_one(engine: AsyncEngine, sender: Sender) -> bool:
    """Send the oldest sendable message; False when there is none."""
    async with engine.begin() as conn:
        at = now()
        row = await email_outbox.next_sendable(conn, sender.max_attempts, at)
        if row is None:
            return False
        if await _result_first(conn, row, dict(row.facts), at, sender.result_wait):
            why = "waiting for the result message to go first"
            await email_outbox.postpone(conn, row.id, at + WAIT, why)
            return True
        composed = await render(conn, row, sender.links, at=at, claim_wait=sender.claim_wait)
        if isinstance(composed, Wait):
            await email_outbox.postpone(conn, row.id, at + WAIT, composed.why)
            return True
        to = row.to_address or row.contact_email
        token = row.facts.get("token")
        outgoing = mail.Outgoing(
            message_id=f"<{row.id}@{sender.domain}>",
            sender=sender.sender,
            to=to,
            subject=composed.subject,
            text=composed.text,
            html=composed.html,
            date=row.created_at,
            unsubscribe_url=sender.links.unsubscribe(token)
            if token and row.kind == Kind.ENROLMENT_OPENED
            else None,
        )
        attempts = row.attempts + 1
        try:
            await mail.send(sender.target, outgoing)
        except (aiosmtplib.SMTPException, OSError, ValueError) as error:
            log.warning("email.send_failed", message_id=str(row.id), error=str(error))
            await email_outbox.mark_failed_attempt(
                conn,
                row.id,
                attempts=attempts,
                error=str(error) or type(error).__name__,
                give_up_at=at if attempts >= sender.max_attempts else None,
            )
            return False
        await email_outbox.mark_sent(
            conn,
            row.id,
            to=to,
            subject=composed.subject,
            language=composed.language,
            attempts=attempts,
            at=at,
        )
        if row.kind in (Kind.RESULT_PASSED, Kind.RESULT_NOT_YET) and "enrolment_id" in row.facts:
            await email_outbox.wake_credential_of(conn, row.facts["enrolment_id"])
        return True


async def send_pending(engine: AsyncEngine, sender: Sender) -> int:
    """Send up to a batch of messages, oldest first; returns how many were handled."""
    handled = 0
    while handled < BATCH and await send_one(engine, sender):
        handled += 1
    return handled


async def sender_loop(engine: AsyncEngine, sender: Sender, *, poll_seconds: float) -> None:
    while True:
        if await send_pending(engine, sender) < BATCH:
            await asyncio.sleep(poll_seconds)
