"""Interest in a micro-credential, with double opt-in and one-click unsubscribe.

Registering sends a confirmation message; only a confirmed registration is told when an
offering opens (`events.enrolment_opened`). Every such message carries a one-click
unsubscribe link (and RFC 8058 headers). Renewing an unsubscribed registration needs a
new confirmation."""

from __future__ import annotations

import secrets
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from notifier.compose import shipped_languages
from notifier.domain import Kind, UnknownMicroCredential, UnknownToken, UnsupportedLanguage
from notifier.repository import catalogue, email_outbox, interests


async def register(
    conn: AsyncConnection, code: str, *, email: str, language: str | None, at: datetime
) -> UUID:
    """Register ``email``'s interest in the micro-credential ``code``; stages the
    confirmation unless it is already confirmed."""
    item = await catalogue.micro_credential_by_code(conn, code)
    if item is None:
        raise UnknownMicroCredential(f"No published micro-credential has the code {code!r}.")
    if language is not None and language.split("-")[0].casefold() not in shipped_languages():
        raise UnsupportedLanguage(
            f"Messages are written in {', '.join(sorted(shipped_languages()))}.",
            language=language,
        )
    registration, token, confirmed = await interests.register_interest(
        conn,
        item.id,
        email=email.strip().lower(),
        language=language,
        token=secrets.token_urlsafe(32),
        at=at,
    )
    if not confirmed:
        await email_outbox.stage_message(
            conn,
            Kind.INTEREST_CONFIRM,
            f"{Kind.INTEREST_CONFIRM}:{registration}:{at.isoformat()}",
            {"micro_credential_id": str(item.id), "token": token},
            at=at,
            to_address=email.strip().lower(),
            language=language,
        )
    return registration


async def _known(conn: AsyncConnection, token: str) -> None:
    if await interests.interest_by_token(conn, token) is None:
        raise UnknownToken("This link is not (or no longer) valid.")


async def confirm(conn: AsyncConnection, token: str, at: datetime) -> str:
    """Confirm the registration; the title of what it is about."""
    await _known(conn, token)
    await interests.confirm_interest(conn, token, at)
    found = await interests.interest_by_token(conn, token)
    title, _ = await catalogue.titles(conn, micro_credential_id=found.micro_credential_id)
    return title or ""


async def title_of(conn: AsyncConnection, token: str) -> str:
    await _known(conn, token)
    found = await interests.interest_by_token(conn, token)
    title, _ = await catalogue.titles(conn, micro_credential_id=found.micro_credential_id)
    return title or ""


async def unsubscribe(conn: AsyncConnection, token: str, at: datetime) -> str:
    await _known(conn, token)
    await interests.unsubscribe_interest(conn, token, at)
    found = await interests.interest_by_token(conn, token)
    title, _ = await catalogue.titles(conn, micro_credential_id=found.micro_credential_id)
    return title or ""
