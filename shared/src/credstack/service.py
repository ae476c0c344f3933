"""What every service's `create_app` shares: lifespan, auth, problems, health, metrics, worker.

A service describes itself with a `ServiceDefinition`; `create_app` builds the FastAPI
app whose lifespan owns the engine, the Kafka producer, the outbox relay and the event
consumer. Nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

import structlog
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack import access, auditapi, cors, observability, problems, ratelimit, scraping
from credstack.audit import AuditEntry, AuditLog, StaffAction
from credstack.auth import Authenticator, KeySource, Principal, require
from credstack.clock import now
from credstack.contracts.topics import ALL_TOPICS, topics_of
from credstack.db import create_engine
from credstack.guard import InputGuard, Limits
from credstack.inbox import Inbox
from credstack.kafka import (
    BatchScope,
    EventConsumer,
    Handlers,
    ParkedEvents,
    ensure_topics,
    is_transient,
    make_producer,
)
from credstack.outages import OUTAGES, kind_of
from credstack.outbox import Outbox
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.ratelimit import RateLimiter
from credstack.refusals import NotFound
from credstack.settings import ServiceSettings

log = structlog.get_logger()


@dataclass
class ServiceDefinition:
    settings: ServiceSettings
    title: str
    description: str
    metadata: MetaData
    outbox: Outbox
    inbox: Inbox
    parked: ParkedEvents
    audit: AuditLog
    """Where staff actions are recorded (`credstack.audit`); listed at `/admin/audit`."""
    routers: Sequence[APIRouter]
    handlers: Callable[[FastAPI], Handlers] = lambda app: {}
    """The consumer's handler table; the topics it subscribes to follow from its event types."""
    batch_scope: Callable[[FastAPI], BatchScope | None] = lambda app: None
    """Wraps each batch the consumer applies, inside its transaction (`credstack.kafka`)."""
    on_startup: Callable[[FastAPI], Awaitable[None]] | None = None
    background: Callable[[FastAPI], Mapping[str, Callable[[], Awaitable[None]]]] = lambda app: {}
    """Named loops the worker runs besides the relay and the consumer (timers, deliveries);
    each is restarted after a crash."""
    serving: Callable[[FastAPI], Mapping[str, Callable[[], Awaitable[None]]]] = lambda app: {}
    """Named loops every process runs, worker or not, because its API needs them (the
    dashboard's log follower); each is restarted after a crash."""
    body_limits: Mapping[str, int] = field(default_factory=dict)
    """Routes that take uploads larger than the default body limit (1 MiB): a regular
    expression matched against the whole path → the largest body in bytes."""
    rate_limits: Mapping[str, str] = field(default_factory=dict)
    """Rate-limited routes: 'METHOD /path-regex' → a limit ('30/minute'), or
    'failures:10/minute' to count only requests answered 401/403 (`credstack.ratelimit`);
    the settings override them."""


async def every(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    """Run `job` forever, `seconds` apart: a timer whose state lives in the database."""
    while True:
        await job()
        await asyncio.sleep(seconds)


async def _retrying(name: str, run: Callable[[], Awaitable[None]], delay: float = 2.0) -> None:
    """Keep a background loop alive across broker or database outages."""
    while True:
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if is_transient(error):
                OUTAGES.report(kind_of(error), error, loop=name)
            else:
                log.exception(f"{name}.crashed", restart_in_seconds=delay)
            await asyncio.sleep(delay)


SHUTDOWN_STEP_SECONDS = 5.0


async def _shut_down(
    tasks: Sequence[asyncio.Task[None]], producer: AIOKafkaProducer, engine: AsyncEngine
) -> None:
    """Stop the loops, the producer and the pool, each step bounded: a loop stuck in a
    call that ignores cancellation, or an unreachable broker, cannot hold the process."""
    for task in tasks:
        task.cancel()
    steps: list[tuple[str, Awaitable[object]]] = [
        ("loops", asyncio.gather(*tasks, return_exceptions=True)),
        ("producer", producer.stop()),
        ("database", engine.dispose()),
    ]
    for name, step in steps:
        try:
            await asyncio.wait_for(step, SHUTDOWN_STEP_SECONDS)
        except Exception as error:  # shutting down: report and go on
            log.warning("service.shutdown_step_failed", step=name, error=repr(error))


def create_app(definition: ServiceDefinition) -> FastAPI:
    settings = definition.settings
    service = settings.service_name

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        observability.configure(service)
        engine = create_engine(
            settings.database_url,
            settings.schema_name,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        producer = make_producer(
            settings.kafka_bootstrap_servers, idempotence=settings.kafka_idempotence
        )
        app.state.engine = engine
        app.state.producer = producer
        app.state.producer_ready = asyncio.Event()
        app.state.authenticator = Authenticator(
            KeySource(settings.auth_jwks_url),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            max_lifetime_seconds=settings.auth_max_token_lifetime_seconds,
        )
        if definition.on_startup:
            await definition.on_startup(app)
        handlers = definition.handlers(app)
        consumes = topics_of(handlers)
        app.state.consumer = EventConsumer(
            service=service,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topics=consumes,
            engine=engine,
            inbox=definition.inbox,
            parked=definition.parked,
            handlers=handlers,
            dead_letter_producer=producer,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
            parked_retry_seconds=settings.parked_retry_seconds,
            parked_max_retries=settings.parked_max_retries,
            batch_size=settings.consumer_batch_size,
            batch_scope=definition.batch_scope(app),
        )

        async def start_producer() -> None:
            await ensure_topics(settings.kafka_bootstrap_servers, [*ALL_TOPICS, f"{service}.dlq"])
            await producer.start()
            app.state.producer_ready.set()

        async def relay() -> None:
            await app.state.producer_ready.wait()
            await definition.outbox.relay(
                engine,
                producer,
                database_url=settings.database_url,
                poll_seconds=settings.outbox_poll_seconds,
            )

        async def consume() -> None:
            await app.state.producer_ready.wait()
            await ensure_topics(settings.kafka_bootstrap_servers, consumes)
            await app.state.consumer.run()

        definition.outbox.retention = timedelta(hours=settings.outbox_retention_hours)

        async def broker_watch() -> None:
            await app.state.producer_ready.wait()
            await definition.outbox.watch(
                engine,
                settings.kafka_bootstrap_servers,
                [*ALL_TOPICS, f"{service}.dlq"],
                interval=settings.broker_check_seconds,
            )

        tasks = [asyncio.create_task(_retrying("producer", start_producer))]
        for name, loop in definition.serving(app).items():
            tasks.append(asyncio.create_task(_retrying(name, loop)))
        if settings.run_worker:
            tasks.append(asyncio.create_task(_retrying("outbox_relay", relay)))
            tasks.append(asyncio.create_task(_retrying("broker_watch", broker_watch)))
            if consumes:
                tasks.append(asyncio.create_task(_retrying("consumer", consume)))
                tasks.append(
                    asyncio.create_task(_retrying("parked_retry", app.state.consumer.retry_parked))
                )
            for name, loop in definition.background(app).items():
                tasks.append(asyncio.create_task(_retrying(name, loop)))
        log.info("service.started", public_url=settings.public_url)
        try:
            yield
        finally:
            await _shut_down(tasks, producer, engine)

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="0.1.0",
        lifespan=lifespan,
        # One span per request, `observability.HttpTelemetry`'s. FastAPI's own telemetry
        # (0.165+) would add a server span and one per dependency, endpoint and
        # serialization as soon as a tracer provider is set (`observability.configure`):
        # three to five SDK spans per request, which nothing here exports.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.definition = definition
    app.state.settings = settings
    app.state.metrics_access = scraping.MetricsAccess(
        networks=settings.metrics_networks,
        token=settings.metrics_token.get_secret_value() if settings.metrics_token else None,
    )
    problems.install(app)
    # Added first, so it runs inside the guard: its 429s get the security headers.
    app.add_middleware(
        RateLimiter,
        rules=ratelimit.rules_of(definition.rate_limits, settings.rate_limits),
        clients=settings.rate_limit_clients,
        trusted_proxies=ratelimit.trusted_networks(settings.trusted_proxies),
    )
    app.add_middleware(observability.HttpTelemetry, service=service)
    app.add_middleware(InputGuard, limits=Limits(routes=definition.body_limits))
    cors.install(app, settings)
    app.include_router(operations_router(definition), responses=problems.RESPONSES)
    app.include_router(auditapi.router, responses=problems.RESPONSES)
    for router in definition.routers:
        app.include_router(router, responses=problems.RESPONSES)
    return app


async def engine_of(request: Request) -> AsyncEngine:
    """(Async, as every dependency that does not block: FastAPI runs a plain `def`
    dependency in the thread pool, a thread hop per request.)"""
    engine: AsyncEngine = request.app.state.engine
    return engine


Engine = Annotated[AsyncEngine, Depends(engine_of)]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str = Field(description="ready or not ready")
    checks: dict[str, str] = Field(description="Each dependency: ok, or why it is unreachable")


class ParkedEvent(BaseModel):
    id: int
    topic: str
    partition: int
    offset: int
    key: str | None
    payload: str = Field(description="The CloudEvent as it arrived")
    error: str
    parked_at: datetime
    replayed_at: datetime | None
    retries: int = Field(description="Automatic retries so far")
    next_retry_at: datetime | None = Field(
        description="When it is retried automatically next; none once replayed, or when "
        "the automatic retries are spent and it waits for staff"
    )


class OutboxState(BaseModel):
    pending: int = Field(description="Rows not yet acknowledged by the broker")
    oldest_pending_at: datetime | None
    retained: int = Field(
        description="Published rows kept for re-publishing if the broker loses them"
    )
    broker_losses_seen: int = Field(description="Times this process saw the broker lose its log")


class Replayed(BaseModel):
    id: int
    outcome: str = Field(description="applied, duplicate (already applied) or ignored")


def operations_router(definition: ServiceDefinition) -> APIRouter:
    router = APIRouter(tags=["operations"])
    parked = definition.parked.table

    @router.get("/healthz", summary="Liveness: the process answers", response_model=Health)
    @access.public
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        summary="Readiness: the database and the broker are reachable",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
    )
    @access.public
    async def readyz(request: Request, engine: Engine) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        producer: AIOKafkaProducer = request.app.state.producer
        try:
            if not request.app.state.producer_ready.is_set():
                raise ConnectionError("producer not started")
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=3)
            # The broker watch's last check failed: a broker that answers metadata but not
            # reads and topic creation is no more ready than one that answers nothing.
            checks["broker"] = definition.outbox.broker_down or "ok"
        except Exception as error:
            checks["broker"] = f"unreachable: {type(error).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def metrics(_: None = Depends(scraping.scraper)) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/admin/outbox", response_model=OutboxState, summary="What the outbox has not sent yet"
    )
    async def outbox_state(
        engine: Engine, _: Principal = require("platform:operate")
    ) -> OutboxState:
        t = definition.outbox.table
        async with engine.connect() as conn:
            pending, oldest, retained = (
                await conn.execute(
                    select(
                        func.count().filter(t.c.published_at.is_(None)),
                        func.min(t.c.created_at).filter(t.c.published_at.is_(None)),
                        func.count().filter(t.c.published_at.is_not(None)),
                    )
                )
            ).one()
        return OutboxState(
            pending=pending,
            oldest_pending_at=oldest,
            retained=retained,
            broker_losses_seen=definition.outbox.losses,
        )

    @router.get(
        "/admin/parked-events", response_model=Page[ParkedEvent], summary="Events that failed"
    )
    async def list_parked(
        engine: Engine,
        _: Principal = require("platform:operate"),
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> Page[ParkedEvent]:
        """Events that failed every retry, oldest first."""
        query = select(parked).order_by(parked.c.id).limit(limit + 1)
        if cursor is not None:
            (after,) = decode_cursor(cursor, int)
            query = query.where(parked.c.id > after)
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return page_of([ParkedEvent(**row._mapping) for row in rows], limit, lambda e: (e.id,))

    @router.post(
        "/admin/parked-events/{parked_id}/replay",
        response_model=Replayed,
        summary="Apply a parked event again",
        responses={
            409: {"description": "It failed again: the problem detail's `error` says why"},
            503: {"description": "The database or broker is out; retry after `Retry-After`"},
        },
    )
    async def replay(
        parked_id: Annotated[int, Path(ge=1, lt=2**63)],
        request: Request,
        engine: Engine,
        staff: Principal = require("platform:operate"),
    ) -> Replayed:
        async with engine.connect() as conn:
            row = (await conn.execute(select(parked).where(parked.c.id == parked_id))).first()
        if row is None:
            raise NotFound(f"No parked event {parked_id}.")
        outcome = await request.app.state.consumer.replay(row.payload)
        async with engine.begin() as conn:
            await conn.execute(
                parked.update()
                .where(parked.c.id == parked_id)
                .values(replayed_at=now(), next_retry_at=None)
            )
            entry = AuditEntry.by(
                staff,
                StaffAction.PARKED_EVENT_REPLAY,
                "parked-event",
                parked_id,
                at=now(),
                details={"topic": row.topic, "offset": row.offset, "outcome": outcome},
            )
            await definition.audit.record(conn, entry)
        return Replayed(id=parked_id, outcome=outcome)

    return router
