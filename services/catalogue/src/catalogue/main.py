"""The catalogue service: `uvicorn --factory catalogue.main:create_app`."""

from fastapi import FastAPI

from catalogue import (
    api,
    bulk,
    bulkapi,
    consumers,
    public,
    sample_catalogue,
    stacksapi,
    tables,
    usecases,
)
from catalogue.settings import Settings
from credstack import service
from credstack.clock import now


async def announce_open_enrolments(app: FastAPI) -> int:
    async with app.state.engine.begin() as conn:
        return await usecases.announce_open_enrolments(conn, now=now())


async def load_sample_catalogue(app: FastAPI) -> None:
    if app.state.settings.load_sample_catalogue:
        await sample_catalogue.load(app.state.engine, now=now())


def create_app(settings: Settings | None = None) -> FastAPI:
    return service.create_app(
        service.ServiceDefinition(
            settings=settings or Settings(),
            on_startup=load_sample_catalogue,
            title="Credstack catalogue",
            description=(
                "Micro-credentials, stacks and offerings, their approval, and public search."
            ),
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            audit=tables.audit,
            handlers=lambda app: consumers.HANDLERS,
            routers=[public.router, api.router, stacksapi.router, bulkapi.router],
            body_limits={"/imports": bulk.MAX_IMPORT_BYTES},
            rate_limits={
                "GET /(micro-credentials|stacks)(/[^/]+)?": "120/minute",
                "GET /offerings": "120/minute",
            },
            background=lambda app: {
                "enrolment_announcer": lambda: service.every(
                    app.state.settings.enrolment_announce_seconds,
                    lambda: announce_open_enrolments(app),
                )
            },
        )
    )
