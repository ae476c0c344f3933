"""The assessment service: `uvicorn --factory assessment.main:create_app`."""

from fastapi import FastAPI

from assessment import api, consumers, tables
from assessment.settings import Settings
from credstack import service


def create_app(settings: Settings | None = None) -> FastAPI:
    return service.create_app(
        service.ServiceDefinition(
            settings=settings or Settings(),
            title="Credstack assessment",
            description="Grades from LMS integrations, pass rules, attendance and moderation.",
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            routers=[api.router],
            consumes=["catalogue.events", "enrolment.events"],
            handlers=lambda app: consumers.HANDLERS,
        )
    )
