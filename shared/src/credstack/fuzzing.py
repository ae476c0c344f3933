"""Fuzz a running service's OpenAPI with schemathesis: no 5xx, responses as documented.

Used by each service's integration tests (`test_openapi_fuzz.py`). Requests go to the
app in-process over ASGI (the same `ServiceUnderTest` the other tests use, lifespan and
database included). Hypothesis runs in a worker thread and each request is sent on the
test's event loop, so the app's engine and state stay on the loop they were made on.
Bounded by `max_examples` per operation, without shrinking, so a whole service takes
seconds to tens of seconds; failures are collected per operation, not stopped at the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error

# Imported here, at collection, rather than lazily inside a running test: schemathesis is a
# pytest plugin, so pytest rewrites its modules on import, and CPython 3.11.7's ast.parse
# can fail with "AST constructor recursion depth mismatch" when that happens deep inside
# an asyncio test (a CPython bug fixed in later 3.11 releases).
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401
from schemathesis.specs.openapi.adapter import v2 as _openapi_v2  # noqa: F401
from schemathesis.specs.openapi.adapter import v3_0 as _openapi_v3_0  # noqa: F401
from schemathesis.specs.openapi.adapter import v3_1 as _openapi_v3_1  # noqa: F401
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credstack.testing import ServiceUnderTest

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

SKIPPED_PATHS = ("/metrics",)
"""Not JSON APIs: Prometheus text, checked elsewhere."""


class Fuzzed(list[str]):
    """The failures found, and how many requests were sent."""

    requests: int = 0


async def fuzz(
    service: ServiceUnderTest,
    headers: Mapping[str, str] | None = None,
    *,
    max_examples: int = 5,
    skip: tuple[str, ...] = (),
) -> Fuzzed:
    """Every failure found, one line each (empty when the API held). `skip`: paths, or
    path prefixes ending in `/`, not to fuzz."""
    loop = asyncio.get_running_loop()
    schema = schemathesis.openapi.from_dict(service.app.openapi())
    base_url = str(service.http.base_url).rstrip("/")

    async def send(kwargs: dict[str, Any]) -> Any:
        return await service.http.request(**kwargs)

    def run() -> Fuzzed:
        failures = Fuzzed()
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
            prefixes = tuple(p for p in skip if p.endswith("/"))
            if operation.path in (*SKIPPED_PATHS, *skip) or operation.path.startswith(prefixes):
                continue

            @hypothesis.given(case=operation.as_strategy())
            @hypothesis.settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                kwargs = case.as_transport_kwargs(base_url=base_url, headers=dict(headers or {}))
                request = {
                    k: v
                    for k, v in kwargs.items()
                    if k
                    in ("method", "url", "headers", "params", "content", "json", "data", "files")
                }
                response = asyncio.run_coroutine_threadsafe(send(request), loop).result(60)
                failures.requests += 1
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as failure:  # schemathesis raises a BaseExceptionGroup
                first = str(failure).strip().splitlines()[:6]
                failures.append(f"{operation.method.upper()} {operation.path}: {' | '.join(first)}")
        return failures

    return await asyncio.to_thread(run)
