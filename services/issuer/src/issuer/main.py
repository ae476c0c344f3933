"""The issuer service: `uvicorn --factory issuer.main:create_app`."""

from fastapi import FastAPI

from credstack import service
from issuer import api, consumers, keys, tables
from issuer.domain import IssuerProfile
from issuer.settings import Settings
from issuer.usecases import Issuer


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    issuer = Issuer(
        keys=keys.load(settings),
        profile=IssuerProfile(
            did=settings.did,
            name=settings.issuer_name,
            url=settings.issuer_url,
            email=settings.issuer_email,
        ),
        base_url=settings.public_url,
    )
    app = service.create_app(
        service.ServiceDefinition(
            settings=settings,
            title="Credstack issuer",
            description="Open Badges 3.0 credentials: issuing, signing and verification.",
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            routers=[api.router],
            consumes=["catalogue.events", "enrolment.events", "assessment.events"],
            handlers=lambda app: consumers.handlers(issuer),
        )
    )
    app.state.issuer = issuer
    return app
