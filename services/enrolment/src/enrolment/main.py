"""The enrolment service: `uvicorn --factory enrolment.main:create_app`."""

from fastapi import FastAPI

from credstack import service
from enrolment import api, consumers, tables
from enrolment.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return service.create_app(
        service.ServiceDefinition(
            settings=settings or Settings(),
            title="Credstack enrolment",
            description="Learners, enrolments, up-front payment, prerequisites and waitlists.",
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            routers=[api.router],
            consumes=["catalogue.events"],
            handlers=lambda app: consumers.HANDLERS,
        )
    )
