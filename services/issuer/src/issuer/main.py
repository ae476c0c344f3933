"""The issuer service: `uvicorn --factory issuer.main:create_app`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import FastAPI

from credstack import service
from credstack.clock import now
from issuer import api, consumers, keys, tables
from issuer.api.status_cache import StatusListCache
from issuer.api.verification import MAX_VERIFY_BYTES
from issuer.identity import Issuer
from issuer.settings import Settings
from issuer.standards.jsonld import OfflineDocumentLoader
from issuer.standards.openbadges3 import IssuerProfile
from issuer.usecases.signing_batch import signed_together
from issuer.usecases.signing_keys import record_key_in_use


def _signing(settings: Settings, issuer_keys: keys.IssuerKeys) -> keys.Signing:
    pool = (
        keys.signing_pool(issuer_keys, settings.signing_workers)
        if settings.signing_workers
        else None
    )
    return keys.Signing(issuer_keys, OfflineDocumentLoader(), pool)


def _record_signing_key(
    app: FastAPI, issuer_keys: keys.IssuerKeys
) -> dict[str, Callable[[], Awaitable[None]]]:
    """Every process records a new signing key once it can reach the database; then
    `app.state.signing_key_recorded` is set."""
    app.state.signing_key_recorded = asyncio.Event()

    async def record() -> None:
        async with app.state.engine.begin() as conn:
            await record_key_in_use(conn, issuer_keys, at=now())
        app.state.signing_key_recorded.set()

    return {"signing_key_audit": record}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The issuer app; outside the dev stack it refuses to start (MissingSetting) without
    its signing keys."""
    settings = settings or Settings()
    if settings.vcapi_open_issuing and not settings.dev_stack:
        raise ValueError("ISSUER_VCAPI_OPEN_ISSUING is for the dev stack only")
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
            serving=lambda app: _record_signing_key(app, signing_keys),
            title="Credstack issuer",
            description=(
                "Open Badges 3.0 and 2.0 credentials: issuing, signing, baked images, "
                "verification, revocation by Bitstring Status List, stacks and the learner record."
            ),
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            audit=tables.audit,
            routers=api.routers,
            body_limits={"/verify": MAX_VERIFY_BYTES},
            rate_limits={"POST /verify": "30/minute", "GET /verify/[^/]+": "120/minute"},
            handlers=lambda app: consumers.handlers(issuer),
            batch_scope=lambda app: partial(signed_together, issuer.signing),
        )
    )
    app.state.issuer = issuer
    app.state.status_list_cache = StatusListCache()
    app.state.vcapi_open_issuing = settings.vcapi_open_issuing
    return app
