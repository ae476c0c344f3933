"""The enrolment service: `uvicorn --factory enrolment.main:create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack import service
from enrolment import api, consumers, sweeper, tables
from enrolment.local_provider import LocalProvider
from enrolment.payments import PaymentProvider
from enrolment.settings import Settings
from enrolment.stripe_provider import StripeProvider
from enrolment.usecases.payment_flows import PaymentFlows
from enrolment.usecases.transitions import Policy


def policy_of(settings: Settings) -> Policy:
    return Policy(
        seat_hold=timedelta(minutes=settings.seat_hold_minutes),
        waitlist_offer=timedelta(hours=settings.waitlist_offer_hours),
        language_entry_levels=tuple(settings.language_entry_levels),
    )


def provider_of(settings: Settings, engine: AsyncEngine) -> PaymentProvider:
    if settings.payment_provider == "stripe" and settings.stripe_api_key is not None:
        return StripeProvider(
            settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
        )
    return LocalProvider(engine, public_url=settings.public_url)


def payment_flows(settings: Settings, engine: AsyncEngine) -> PaymentFlows:
    return PaymentFlows(
        engine=engine,
        provider=provider_of(settings, engine),
        policy=policy_of(settings),
        settings=settings,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    policy = policy_of(settings)

    async def on_startup(app: FastAPI) -> None:
        app.state.policy = policy
        app.state.payment_flows = payment_flows(settings, app.state.engine)

    def background(app: FastAPI) -> dict[str, Callable[[], Awaitable[None]]]:
        flows: PaymentFlows = app.state.payment_flows
        loops: dict[str, Callable[[], Awaitable[None]]] = {
            "sweeper": lambda: sweeper.run(flows, every_seconds=settings.sweep_seconds)
        }
        if isinstance(flows.provider, LocalProvider):
            local = flows.provider
            loops["local_payment_provider"] = lambda: local.run(
                url=f"{settings.public_url}/payments/stripe/webhook",
                secrets=[s.get_secret_value() for s in settings.stripe_webhook_secrets],
                poll_seconds=settings.local_provider_poll_seconds,
            )
        return loops

    return service.create_app(
        service.ServiceDefinition(
            settings=settings,
            title="Credstack enrolment",
            description="Learners, enrolments, up-front payment, prerequisites and waitlists.",
            metadata=tables.metadata,
            outbox=tables.outbox,
            inbox=tables.inbox,
            parked=tables.parked,
            audit=tables.audit,
            routers=api.routers,
            handlers=lambda app: consumers.handlers(policy),
            on_startup=on_startup,
            background=background,
            rate_limits={
                "POST /enrolments": "20/minute;200/day",
                "POST /enrolments/[^/]+/checkout": "20/minute",
                # Each archive asks four services for everything they hold on the learner.
                "GET /learners/me/archive": "5/minute;30/day",
            },
        )
    )
