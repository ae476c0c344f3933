"""The assessment service: `uvicorn --factory assessment.main:create_app`."""

from fastapi import FastAPI

from assessment import api, consumers, gradebook, tables
from assessment.settings import Settings
from credstack import service


async def _connect_gradebook(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    app.state.gradebook = gradebook.MoodleWebService(
        {client: token.get_secret_value() for client, token in settings.moodle_ws_tokens.items()},
        timeout_seconds=settings.moodle_timeout_seconds,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    return service.create_app(
        service.ServiceDefinition(
            settings=settings or Settings(),
            title="Credstack assessment",
            description=(
                "Grades from LMS integrations (native JSON, LTI AGS, Caliper, xAPI, Moodle), "
                "pass rules, attendance, moderation, academic integrity and placement."
            ),
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            audit=tables.audit,
            routers=api.routers,
            handlers=lambda app: consumers.HANDLERS,
            on_startup=_connect_gradebook,
            background=lambda app: {"moodle_retry": lambda: gradebook.retry_pending(app)},
            # Wrong credentials on the LMS intake routes (xAPI Basic, Caliper key, LTI and
            # Moodle tokens): after 10 in a minute from one address, every request is refused.
            rate_limits={
                f"POST {path}": "failures:10/minute;100/hour"
                for path in (
                    "/xapi/statements",
                    "/caliper/events",
                    "/lti/offerings/[^/]+/lineitem/scores",
                    "/moodle/webhook",
                    "/grades",
                )
            }
            | {"PUT /xapi/statements": "failures:10/minute;100/hour"},
        )
    )
