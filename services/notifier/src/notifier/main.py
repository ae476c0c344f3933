"""The notifier service: `uvicorn --factory notifier.main:create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from fastapi import FastAPI

from credstack import service
from notifier import api, consumers, mail, tables
from notifier.settings import Settings
from notifier.usecases import reminders, sending


def mail_workers(
    settings: Settings,
) -> Callable[[FastAPI], Mapping[str, Callable[[], Awaitable[None]]]]:
    """The email sender loop (in the dev stack, with no SMTP host, with its own local sink;
    its interval is ``NOTIFIER_EMAIL_POLL_SECONDS``) and the expiry reminder loop
    (``NOTIFIER_REMINDER_POLL_SECONDS``)."""

    def workers(app: FastAPI) -> Mapping[str, Callable[[], Awaitable[None]]]:
        async def email_sender() -> None:
            sink = None
            if settings.smtp_host is None:
                sink = mail.MailSink(app.state.mailbox)
                sink.start()
                target = mail.SmtpTarget("127.0.0.1", sink.port)
            else:
                password = settings.smtp_password
                target = mail.SmtpTarget(
                    settings.smtp_host,
                    settings.smtp_port,
                    settings.smtp_username,
                    password.get_secret_value() if password else None,
                    settings.smtp_start_tls,
                )
            sender = sending.Sender(
                target=target,
                sender=settings.mail_from,
                domain=settings.mail_domain,
                links=sending.Links(
                    settings.public_url,
                    settings.website_url,
                    settings.issuer_url,
                    settings.organisation_name,
                ),
                max_attempts=settings.max_attempts,
                claim_wait=timedelta(seconds=settings.wallet_claim_wait_seconds),
                result_wait=timedelta(seconds=settings.result_first_wait_seconds),
            )
            try:
                await sending.sender_loop(
                    app.state.engine, sender, poll_seconds=settings.email_poll_seconds
                )
            finally:
                if sink is not None:
                    sink.stop()

        async def expiry_reminders() -> None:
            await reminders.reminder_loop(
                app.state.engine,
                days_before=settings.expiry_reminder_days,
                poll_seconds=settings.reminder_poll_seconds,
            )

        return {"email_sender": email_sender, "expiry_reminders": expiry_reminders}

    return workers


def create_app(settings: Settings | None = None) -> FastAPI:
    """The notifier app; outside the dev stack it refuses to start (MissingSetting)
    without an SMTP host."""
    settings = settings or Settings()
    settings.check()
    app = service.create_app(
        service.ServiceDefinition(
            settings=settings,
            title="Credstack notifier",
            description=(
                "Every message the platform sends learners and people who registered "
                "interest: templates in the reader's language, an email outbox, consent "
                "(double opt-in, one-click unsubscribe), preferences, erasure, and staff's "
                "view of what was sent or failed."
            ),
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            audit=tables.audit,
            routers=api.routers,
            # registering interest sends an email: per client, as the catalogue's did
            rate_limits={"POST /micro-credentials/[^/]+/interest": "10/minute;50/day"},
            handlers=lambda app: consumers.handlers(),
            background=mail_workers(settings),
        )
    )
    app.state.mailbox = settings.data_dir / "mailbox" if settings.smtp_host is None else None
    return app
