"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from credstack.refusals import Reason, Refusal

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://credstack.dev/problems/"


class Problem(Refusal):
    """A refusal decided at the HTTP edge (authentication, a missing route parameter's
    target, a header): it names its status directly. Rules and formats raise their own
    `Refusal` subclasses instead."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail, **extensions)
        self.reason = Reason(HTTPStatus(status))
        self.code = code
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; extension members carry the facts",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}

RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": f"{HTTPStatus(status).phrase} (problem details)",
        "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
    for status in (400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503)
}
"""The problem responses every route may give, for the OpenAPI (added by the service
factory to every route; a route's own description of a status wins)."""


def problem_response(
    status: int,
    *,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def refusal_response(refusal: Refusal, *, instance: str | None = None) -> JSONResponse:
    return problem_response(
        refusal.status,
        code=refusal.code,
        title=refusal.title or HTTPStatus(refusal.status).phrase,
        detail=refusal.detail,
        instance=instance,
        headers=refusal.headers,
        **refusal.facts,
    )


def _is_data_exception(error: DBAPIError) -> bool:
    """SQLSTATE class 22, "data exception": a value validation let through that the
    database cannot hold (an integer beyond its column, a NUL, an impossible date). The
    transaction has rolled back, so nothing changed; the request was at fault."""
    return str(getattr(error.orig, "sqlstate", "") or "").startswith("22")


def install(app: FastAPI) -> None:
    """Render every error (ours, Starlette's, validation) as a problem detail."""

    async def on_refusal(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refusal)
        return refusal_response(exc, instance=request.url.path)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        status = HTTPStatus(exc.status_code)
        return problem_response(
            exc.status_code,
            code=status.phrase.lower().replace(" ", "-"),
            title=status.phrase,
            detail=str(exc.detail),
            instance=request.url.path,
            headers=exc.headers,
        )

    async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"location": list(e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        malformed = any(e["type"] == "json_invalid" for e in exc.errors())
        return problem_response(
            400 if malformed else 422,
            code="malformed-request" if malformed else "invalid-request",
            title="Malformed request" if malformed else "Invalid request",
            detail="The body is not valid JSON."
            if malformed
            else "The request does not satisfy the API's contract.",
            instance=request.url.path,
            errors=errors,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the exception itself; the client gets a problem, never internals.
        return problem_response(
            500,
            code="internal-error",
            title="Internal Server Error",
            detail="Something went wrong on our side; nothing you sent was wrong. Try again.",
            instance=request.url.path,
        )

    async def on_dependency_error(request: Request, exc: Exception) -> JSONResponse:
        """A value the database cannot hold is the request's fault (422); a transient
        database or broker error is an outage (503 with Retry-After, logged once per
        interval, not a traceback per request); anything else is a 500."""
        from credstack.kafka import is_transient
        from credstack.outages import OUTAGES, RETRY_AFTER_SECONDS, kind_of

        if isinstance(exc, DBAPIError) and _is_data_exception(exc):
            return problem_response(
                422,
                code="value-out-of-range",
                title="Unprocessable Content",
                detail="A value in the request is outside what it may be (too large, or a "
                "character or date that cannot be stored).",
                instance=request.url.path,
            )
        if not is_transient(exc):
            raise exc  # Starlette's server-error middleware answers 500 and logs it
        kind = kind_of(exc)
        OUTAGES.report(kind, exc, path=request.url.path)
        return problem_response(
            503,
            code="service-unavailable",
            title="Service Unavailable",
            detail=f"The {kind} is unavailable for a moment; nothing was changed. "
            f"Try again after {RETRY_AFTER_SECONDS} seconds.",
            instance=request.url.path,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    from aiokafka.errors import KafkaError

    for dependency_error in (DBAPIError, OSError, ConnectionError, KafkaError, TimeoutError):
        app.add_exception_handler(dependency_error, on_dependency_error)
    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
