"""Hostile input stops at the door: one ASGI middleware every service gets from the factory.

- No NUL in a path or query string (PostgreSQL cannot store it; nothing legitimate sends
  it): 400 `nul-byte`.
- Every body is limited in bytes *as it arrives*, before anything reads it: a
  `Content-Length` over the limit is 413 at once; a body streamed without one is counted
  chunk by chunk and refused with 413 as soon as it passes the limit. Routes that take
  uploads declare a larger limit (`ServiceDefinition.body_limits`).
- A JSON body (`application/json`, `…+json`) is checked once before the route reads it:
  nesting at most `json_depth` deep (400 `too-deep`), no NUL in any string or key (400
  `nul-byte`), integers within int64 and numbers finite (422 `number-out-of-range`). A
  body that is not JSON at all is left to the route (which answers 400). Large bodies are
  checked off the event loop.
- Security headers on every response: `X-Content-Type-Options: nosniff`,
  `Referrer-Policy`, `X-Frame-Options`, and a Content-Security-Policy with
  `frame-ancestors 'none'` on HTML pages and images (a route may set its own).

Hand-written because the checks must run on the raw ASGI stream (a size limit after
`request.body()` has already read the body is no limit), and no maintained library
combines streaming limits with JSON depth/NUL checks; it is ~150 lines.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credstack import problems
from credstack.refusals import Reason, Refusal

DEFAULT_BODY_BYTES = 1024 * 1024
DEFAULT_JSON_DEPTH = 32
_THREAD_ABOVE_BYTES = 64 * 1024
_INT64 = 2**63

HTML_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class BodyTooLarge(Refusal):
    code = "too-large"
    reason = Reason.TOO_LARGE


class HostileInput(Refusal):
    code = "malformed-request"
    reason = Reason.MALFORMED


class NumberOutOfRange(Refusal):
    code = "number-out-of-range"
    reason = Reason.UNPROCESSABLE


@dataclass(frozen=True)
class Limits:
    body_bytes: int = DEFAULT_BODY_BYTES
    json_depth: int = DEFAULT_JSON_DEPTH
    routes: Mapping[str, int] = field(default_factory=dict)
    """Larger body limits by path (a regular expression matched against the whole path)."""

    def body_limit(self, path: str) -> int:
        for pattern, limit in self.routes.items():
            if re.fullmatch(pattern, path):
                return limit
        return self.body_bytes


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _no_constant(name: str) -> Any:
    raise NumberOutOfRange(f"{name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NumberOutOfRange(f"The number {text[:40]} is out of range.")
    return value


def check_json(body: bytes, max_depth: int) -> None:
    """Refuse a JSON document that is too deep, holds a NUL or an out-of-range number.
    A body that is not JSON is not refused here (the route says how it is malformed)."""
    try:
        document = json.loads(body, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError as error:
        raise HostileInput(
            f"The JSON is nested more than {max_depth} deep.", limit=max_depth
        ) from error
    except (ValueError, UnicodeDecodeError):
        return
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise HostileInput(
                    f"The JSON is nested more than {max_depth} deep.", limit=max_depth
                )
            children = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in children:
                if isinstance(key, str) and "\x00" in key:
                    raise HostileInput("A JSON key holds a NUL character.")
                stack.append((child, depth + 1))
        elif isinstance(value, str):
            if "\x00" in value:
                raise HostileInput("A JSON string holds a NUL character.")
        elif (
            isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64
        ):
            raise NumberOutOfRange("An integer in the body is outside the 64-bit range.")


class InputGuard:
    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if (
            "\x00" in path
            or b"\x00" in query
            or b"%00" in query
            or b"%00" in scope.get("raw_path", b"")
        ):
            await _refuse(scope, receive, send, HostileInput("The URL holds a NUL character."))
            return
        length, content_type = _length_and_type(scope)
        limit = self.limits.body_limit(path)
        if length is not None:
            if not length.isdigit() or len(length) > 18:
                await _refuse(scope, receive, send, HostileInput("Content-Length is not a number."))
                return
            if int(length) > limit:
                await _refuse(scope, receive, send, _too_large(limit))
                return
        counted = _counting(receive, limit)
        if _is_json(content_type) and scope["method"] in (
            "POST",
            "PUT",
            "PATCH",
        ):
            try:
                body = await _read_all(counted)
                if len(body) > _THREAD_ABOVE_BYTES:
                    await anyio.to_thread.run_sync(check_json, body, self.limits.json_depth)
                else:
                    check_json(body, self.limits.json_depth)
            except Refusal as refusal:
                await _refuse(scope, receive, send, refusal)
                return
            counted = _replaying(body, receive)
        await self.app(scope, counted, send)


def _length_and_type(scope: Scope) -> tuple[str | None, str]:
    """`Content-Length` (None if absent) and `Content-Type` ("" if absent), the last of
    each if repeated; the other headers are not decoded (this runs on every request)."""
    length, content_type = None, ""
    for name, value in scope["headers"]:
        name = name.lower()
        if name == b"content-length":
            length = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
    return length, content_type


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"The body is larger than this route takes ({limit} bytes).", limit=limit)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message

    return counted


async def _read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    response = problems.refusal_response(refusal, instance=scope["path"].replace("\x00", ""))
    await response(scope, receive, send)


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            for name, value in _COMMON_HEADERS:
                if name not in present:
                    headers.append((name, value))
            content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            if b"content-security-policy" not in present:
                if content_type.startswith(b"text/html"):
                    headers.append((b"content-security-policy", HTML_CSP.encode()))
                elif content_type.startswith(b"image/"):
                    headers.append((b"content-security-policy", IMAGE_CSP.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return sending
