"""The per-request telemetry middleware: the trace continues through, metrics by route."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from credstack.observability import HTTP_REQUESTS, HttpTelemetry, PlatformTracerProvider

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def app() -> FastAPI:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # as configure() does
        trace.set_tracer_provider(PlatformTracerProvider())
    application = FastAPI()
    application.add_middleware(HttpTelemetry, service="telemetry-test")

    @application.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    return application


def count(route: str, status: str) -> float:
    value = HTTP_REQUESTS.labels("telemetry-test", "GET", route, status)._value.get()
    return float(value)


def test_the_answer_continues_the_callers_trace_and_is_counted_by_route_template() -> None:
    client = TestClient(app())
    before = count("/items/{item_id}", "200")
    response = client.get("/items/7", headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
    assert response.json() == {"item": 7}
    version, trace_id, span_id, _ = response.headers["traceparent"].split("-")
    assert (version, trace_id) == ("00", TRACE_ID)
    assert span_id != "00f067aa0ba902b7"  # a span of its own, child of the caller's
    assert count("/items/{item_id}", "200") == before + 1


def test_errors_and_unknown_routes_are_counted_with_their_status() -> None:
    client = TestClient(app())
    before_422 = count("/items/{item_id}", "422")
    before_404 = count("unmatched", "404")
    assert client.get("/items/seven").status_code == 422
    assert client.get("/nowhere").status_code == 404
    assert count("/items/{item_id}", "422") == before_422 + 1
    assert count("unmatched", "404") == before_404 + 1
    assert "traceparent" in client.get("/nowhere").headers


def test_once_an_exporter_is_added_each_request_is_a_recorded_span_it_receives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exported = InMemorySpanExporter()
    provider = PlatformTracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    response = TestClient(app()).get(
        "/items/7", headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
    )
    # (FastAPI's own spans, which the service factory turns off, aside)
    (span,) = [
        s for s in exported.get_finished_spans() if s.instrumentation_scope.name == "credstack"
    ]
    assert span.name == "GET /items/7"
    assert span.parent is not None and span.parent.span_id == 0x00F067AA0BA902B7
    assert response.headers["traceparent"] == (
        f"00-{TRACE_ID}-{span.context.span_id:016x}-{span.context.trace_flags:02x}"
    )


def test_without_an_exporter_a_span_is_its_identity_alone_with_the_samplers_flags() -> None:
    provider = PlatformTracerProvider()
    caller = trace.set_span_in_context(
        trace.NonRecordingSpan(
            trace.SpanContext(int(TRACE_ID, 16), 1, is_remote=True, trace_flags=trace.TraceFlags(0))
        )
    )
    child = provider.identity_only(caller).get_span_context()
    assert (child.trace_id, child.trace_flags) == (int(TRACE_ID, 16), 0)  # not sampled upstream
    assert child.span_id not in (0, 1)
    root = provider.identity_only(trace.set_span_in_context(trace.INVALID_SPAN)).get_span_context()
    assert root.is_valid and root.trace_flags.sampled
