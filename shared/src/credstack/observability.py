"""Structured JSON logs carrying the trace id, W3C trace context, and Prometheus metrics.

A request's trace context comes in on `traceparent`, is stored on each outbox row,
travels as a Kafka header and is restored by the consumer, so one trace id follows
a learner's enrolment from the HTTP request to the credential.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_propagator = TraceContextTextMapPropagator()

HTTP_REQUESTS = Counter(
    "credstack_http_requests_total",
    "HTTP requests handled",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "credstack_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)
EVENTS_PUBLISHED = Counter(
    "credstack_events_published_total", "Outbox rows published to Kafka", ["service", "topic"]
)
EVENTS_CONSUMED = Counter(
    "credstack_events_consumed_total",
    "Events taken from Kafka, by what became of them",
    ["service", "type", "outcome"],
)


def _add_trace_ids(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = format(span_context.trace_id, "032x")
        event_dict["span_id"] = format(span_context.span_id, "016x")
    return event_dict


EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_emails(value: Any) -> Any:
    """`ada.lovelace@example.org` → `a***@example.org`, in strings, lists and dicts."""
    if isinstance(value, str):
        return EMAIL.sub(r"\1***@\2", value) if "@" in value else value
    if isinstance(value, dict):
        return {k: mask_emails(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_emails(v) for v in value)
    return value


def _mask_emails(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """No learner's address in a log line (issue 13): the domain stays, for diagnosis."""
    return {key: mask_emails(value) for key, value in event_dict.items()}


def configure(service: str, *, level: str = "INFO") -> None:
    """JSON logs on stdout for this process, and a tracer provider (idempotent).

    Also sets the process's umask to 077: every file the platform writes (mail, keys,
    logs, exports) is readable by its owner only."""
    os.umask(0o077)
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(PlatformTracerProvider())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
        _mask_emails,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.processors.JSONRenderer(), foreign_pre_chain=shared
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


#: What a child span takes of its parent's flags (the sampled decision, a random trace id).
_INHERITED_FLAGS = trace.TraceFlags.SAMPLED | trace.TraceFlags.RANDOM_TRACE_ID


class PlatformTracerProvider(TracerProvider):
    """The SDK's provider (default sampler: the caller's decision, else sampled) that
    records spans only once something receives them: until a span processor (an
    exporter) is added, :func:`span_from` gives each span its identity alone — a new span
    id in the caller's trace (or a new trace), the flags the sampler would give — which is
    all the platform reads of a span (log lines, the ``traceparent`` answer header, the
    outbox). An SDK span recorded for no one cost about as much as a bare FastAPI request
    (start, attributes, a readable copy at its end, handed to no processor)."""

    exporting = False

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        self.exporting = True
        super().add_span_processor(span_processor)

    def identity_only(self, parent: otel_context.Context) -> trace.Span:
        above = trace.get_current_span(parent).get_span_context()
        if above.is_valid:
            trace_id, state = above.trace_id, above.trace_state
            flags = above.trace_flags & _INHERITED_FLAGS
        else:
            trace_id, state = self.id_generator.generate_trace_id(), None
            flags = trace.TraceFlags.SAMPLED
            if self.id_generator.is_trace_id_random():
                flags |= trace.TraceFlags.RANDOM_TRACE_ID
        return trace.NonRecordingSpan(
            trace.SpanContext(
                trace_id,
                self.id_generator.generate_span_id(),
                is_remote=False,
                trace_flags=trace.TraceFlags(flags),
                trace_state=state,
            )
        )


_tracers: dict[int, trace.Tracer] = {}


def tracer() -> trace.Tracer:
    """The platform's tracer from the current provider, made once per provider: the SDK's
    ``get_tracer`` resets the warnings filters on every call (a profile of ``/healthz``
    showed it among the costliest lines of a request)."""
    provider = trace.get_tracer_provider()
    found = _tracers.get(id(provider))
    if found is None:
        found = _tracers[id(provider)] = provider.get_tracer("credstack")
    return found


def traceparent_of(span: trace.Span) -> str | None:
    """The W3C ``traceparent`` naming ``span`` (what the propagator's ``inject`` writes,
    without its carrier and context lookups), or None for an invalid span."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def current_traceparent() -> str | None:
    return traceparent_of(trace.get_current_span())


@contextmanager
def within_trace(traceparent: str | None) -> Iterator[None]:
    """The trace named by `traceparent` made current without a new span: what is logged
    inside carries its trace id (a batch's outcomes, logged once its transaction commits)."""
    token = otel_context.attach(
        _propagator.extract({"traceparent": traceparent} if traceparent else {})
    )
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def span_from(traceparent: str | None, name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A span that continues the trace named by `traceparent` (or starts a new one)."""
    parent = _propagator.extract({"traceparent": traceparent} if traceparent else {})
    provider = trace.get_tracer_provider()
    if isinstance(provider, PlatformTracerProvider) and not provider.exporting:
        span = provider.identity_only(parent)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            yield span
        finally:
            otel_context.detach(token)
        return
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(name, attributes=attributes) as span:
            yield span
    finally:
        otel_context.detach(token)


#: Label sets whose metric children one middleware keeps at hand (routes are templates, so
#: a service has far fewer; the bound only stops an odd client from growing the dict).
_KEPT_CHILDREN = 4096


class HttpTelemetry:
    """A span per request (continuing the caller's ``traceparent``, named by the method
    and path), the ``traceparent`` answer header naming it, and the request counted and
    timed by route template: ``app.add_middleware(HttpTelemetry, service=name)``.

    Plain ASGI, because Starlette's ``BaseHTTPMiddleware`` runs every request in a task
    group of its own and streams the answer through a memory channel (40% of ``/healthz``
    in a profile). The metric children are kept per label set: ``labels()`` looks them up
    under a lock on every call.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        incoming = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                incoming = value.decode("latin-1")
                break
        status = 500
        with span_from(incoming, f"{method} {scope['path']}") as span:
            outgoing = traceparent_of(span)

            async def send_with_trace(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    if outgoing:
                        headers = [*message.get("headers", []), (b"traceparent", outgoing.encode())]
                        message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_trace)
            self._record(method, getattr(scope.get("route"), "path", "unmatched"), status, started)

    def _record(self, method: str, route: str, status: int, started: float) -> None:
        counted = self._counted.get((method, route, str(status)))
        if counted is None:
            counted = HTTP_REQUESTS.labels(self.service, method, route, str(status))
            if len(self._counted) < _KEPT_CHILDREN:
                self._counted[(method, route, str(status))] = counted
        timed = self._timed.get((method, route))
        if timed is None:
            timed = HTTP_LATENCY.labels(self.service, method, route)
            if len(self._timed) < _KEPT_CHILDREN:
                self._timed[(method, route)] = timed
        counted.inc()
        timed.observe(time.perf_counter() - started)
