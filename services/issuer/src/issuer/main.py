"""The issuer service: `uvicorn --factory issuer.main:create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI

from credstack import service
from credstack.settings import MissingSetting
from issuer import api, consumers, keys, mail, tables
from issuer.api.verification import MAX_VERIFY_BYTES
from issuer.identity import Issuer
from issuer.settings import Settings
from issuer.standards.jsonld import OfflineDocumentLoader
from issuer.standards.openbadges3 import IssuerProfile


def mail_workers(
    settings: Settings,
) -> Callable[[FastAPI], Mapping[str, Callable[[], Awaitable[None]]]]:
    """The email sender loop; in the dev stack (no SMTP host) with its own local sink.
    Its interval is ``ISSUER_EMAIL_POLL_SECONDS``."""

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
            try:
                await mail.sender_loop(
                    app.state.engine,
                    target,
                    sender=settings.mail_from,
                    domain=settings.mail_domain,
                    poll_seconds=settings.email_poll_seconds,
                )
            finally:
                if sink is not None:
                    sink.stop()

        return {"email_sender": email_sender}

    return workers


def _signing(settings: Settings, issuer_keys: keys.IssuerKeys) -> keys.Signing:
    pool = (
        keys.signing_pool(issuer_keys, settings.signing_workers)
        if settings.signing_workers
        else None
    )
    return keys.Signing(issuer_keys, OfflineDocumentLoader(), pool)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The issuer app; outside the dev stack it refuses to start (MissingSetting) without
    its signing keys or an SMTP host."""
    settings = settings or Settings()
    if settings.smtp_host is None and not settings.dev_stack:
        raise MissingSetting("ISSUER_SMTP_HOST", "learner email has nowhere to go")
    if settings.vcapi_open_issuing and not settings.dev_stack:
        raise MissingSetting(
            "CREDSTACK_DEV_STACK", "ISSUER_VCAPI_OPEN_ISSUING is for the dev stack only"
        )
    signing_keys = keys.load(settings)
    issuer = Issuer(
        profile=IssuerProfile(
            did=signing_keys.did,
            name=settings.issuer_name,
            url=settings.issuer_url,
            email=settings.contact_email,
        ),
        base_url=settings.public_url,
        signing=_signing(settings, signing_keys),
    )
    app = service.create_app(
        service.ServiceDefinition(
            settings=settings,
            title="Credstack issuer",
            description=(
                "Open Badges 3.0 and 2.0 credentials: issuing, signing, baked images, "
                "verification, revocation by Bitstring Status List, stacks and the learner record."
            ),
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            routers=api.routers,
            body_limits={"/verify": MAX_VERIFY_BYTES},
            handlers=lambda app: consumers.handlers(issuer),
            background=mail_workers(settings),
        )
    )
    app.state.issuer = issuer
    app.state.vcapi_open_issuing = settings.vcapi_open_issuing
    app.state.mailbox = settings.data_dir / "mailbox" if settings.smtp_host is None else None
    return app
