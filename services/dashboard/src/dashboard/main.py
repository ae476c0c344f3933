"""The dashboard service: `uvicorn --factory dashboard.main:create_app`."""

from datetime import timedelta

from fastapi import FastAPI

from credstack import service
from credstack.clock import now
from credstack.contracts.enrolment import LearnerDataErased
from dashboard import consumers, privacy, repository, tables
from dashboard.api import actions, console, operations, page, stream
from dashboard.api import privacy as privacy_api
from dashboard.settings import Settings
from dashboard.stream import LogFollower


async def start_follower(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    settings.ticket_secret()  # outside the dev stack, a missing secret stops the start
    app.state.follower = LogFollower(
        app.state.engine,
        database_url=settings.database_url,
        poll_seconds=settings.stream_poll_seconds,
        buffer_size=settings.stream_buffer_size,
    )


async def prune_log(app: FastAPI) -> int:
    settings: Settings = app.state.settings
    at = now()
    async with app.state.engine.begin() as conn:
        return await repository.prune(
            conn, older_than=at - timedelta(days=settings.log_retention_days), now=at
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    return service.create_app(
        service.ServiceDefinition(
            settings=settings or Settings(),
            title="Credstack dashboard",
            description=(
                "Staff: the platform's durable event log, its live resumable stream (SSE), "
                "the console's read models and actions, and the dashboard page."
            ),
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            audit=tables.audit,
            routers=[
                page.router,
                stream.router,
                console.router,
                actions.router,
                privacy_api.router,
                operations.router,
            ],
            handlers=lambda app: {
                **consumers.handlers(),
                LearnerDataErased: privacy.learner_data_erased,
            },
            on_startup=start_follower,
            serving=lambda app: {"log_follower": app.state.follower.run},
            background=lambda app: {
                "log_retention": lambda: service.every(3600.0, lambda: prune_log(app))
            },
        )
    )
