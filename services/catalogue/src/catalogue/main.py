"""The catalogue service: `uvicorn --factory catalogue.main:create_app`."""

from fastapi import FastAPI

from catalogue import api, tables
from catalogue.settings import Settings
from credstack import service


def create_app(settings: Settings | None = None) -> FastAPI:
    return service.create_app(
        service.ServiceDefinition(
            settings=settings or Settings(),
            title="Credstack catalogue",
            description=(
                "Micro-credentials, stacks and offerings, their approval, and public search."
            ),
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            routers=[api.router],
        )
    )
