"""Refusals: the one way a rule, a format or a route says no.

Domain and use-case code raises a `Refusal` subclass naming *why* (a `Reason`), a
stable `code` slug and the facts a client needs; it never names HTTP. The service
factory installs one handler (`credstack.problems`) that renders any refusal as an
RFC 9457 problem detail, with the HTTP status its reason maps to. The request's
transaction has rolled back by then, so a refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from http import HTTPStatus
from typing import Any


class Reason(Enum):
    """Why a request is refused; each reason is one HTTP status."""

    MALFORMED = HTTPStatus.BAD_REQUEST
    UNAUTHENTICATED = HTTPStatus.UNAUTHORIZED
    FORBIDDEN = HTTPStatus.FORBIDDEN
    NOT_FOUND = HTTPStatus.NOT_FOUND
    CONFLICT = HTTPStatus.CONFLICT
    GONE = HTTPStatus.GONE
    PRECONDITION_FAILED = HTTPStatus.PRECONDITION_FAILED
    TOO_LARGE = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    UNSUPPORTED_MEDIA_TYPE = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    UNPROCESSABLE = HTTPStatus.UNPROCESSABLE_ENTITY
    TOO_MANY_REQUESTS = HTTPStatus.TOO_MANY_REQUESTS
    BAD_GATEWAY = HTTPStatus.BAD_GATEWAY
    """A system this service depends on (a payment provider) refused or was unreachable."""
    UNAVAILABLE = HTTPStatus.SERVICE_UNAVAILABLE


class Refusal(Exception):
    """A request refused by a rule or a format. Subclasses set `code` and `reason`.

    `facts` become problem-detail extension members (e.g. `breaches`, `errors`).
    """

    code: str = "refused"
    reason: Reason = Reason.UNPROCESSABLE
    title: str | None = None
    headers: Mapping[str, str] | None = None

    def __init__(self, detail: str, **facts: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.facts = facts

    @property
    def status(self) -> int:
        return int(self.reason.value)


class NotFound(Refusal):
    code = "not-found"
    reason = Reason.NOT_FOUND


class Conflict(Refusal):
    code = "conflict"
    reason = Reason.CONFLICT
