"""Rate limits: one ASGI middleware every service gets from the factory, separate from the
input guard.

A service declares its limited routes (`ServiceDefinition.rate_limits`): a key
`"METHOD /path-regex"` (the regular expression matched against the whole path) → a limit
in the `limits` notation (`"30/minute"`, `"5/second;100/hour"`). A limit prefixed
`failures:` counts only the requests answered 401 or 403 (wrong passwords, unknown API
keys) and refuses the client once it is spent, whatever it sends. Settings override per
route (`<SERVICE>_RATE_LIMITS`, JSON: the same keys; a value `off` lifts the limit) and
per client (`<SERVICE>_RATE_LIMIT_CLIENTS`, JSON: client → a limit replacing every route's
for that client, or `off`).

The client is `sub:<subject>` when the request carries a valid bearer token, else
`ip:<address>`. The address is the TCP peer's, unless the peer is one of the trusted
proxies (`TRUSTED_PROXIES`, comma-separated addresses or networks): then it is the
right-most address of `X-Forwarded-For` that is not itself a trusted proxy, so a client
cannot choose its own address by sending the header.

Counts are kept in memory, per process (a moving window, credstack.moving_window): with N
replicas behind a load balancer, a client may make up to N times the limit. Refusals are 429 problem
details with `Retry-After` (seconds until the oldest counted request leaves the window).
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse_many
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credstack import problems
from credstack.moving_window import MovingWindows

log = structlog.get_logger()

FAILURES = "failures:"
OFF = "off"
_FAILED = frozenset({401, 403})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rule:
    key: str
    method: str
    path: re.Pattern[str]
    items: tuple[RateLimitItem, ...]
    failures_only: bool


def _parse_limit(text: str) -> tuple[tuple[RateLimitItem, ...], bool]:
    failures_only = text.startswith(FAILURES)
    items = tuple(parse_many(text.removeprefix(FAILURES)))
    if not items:
        raise ValueError(f"no limit in {text!r}")
    return items, failures_only


def rules_of(declared: Mapping[str, str], overrides: Mapping[str, str]) -> list[Rule]:
    """The effective rules: the service's declared limits, overridden by the settings."""
    merged = {**declared, **overrides}
    rules = []
    for key, value in merged.items():
        if value.strip().lower() == OFF:
            continue
        method, _, pattern = key.strip().partition(" ")
        if not pattern.startswith("/"):
            raise ValueError(f"rate limit key {key!r} is not 'METHOD /path-regex'")
        items, failures_only = _parse_limit(value.strip())
        rules.append(Rule(key, method.upper(), re.compile(pattern), items, failures_only))
    return rules


def trusted_networks(text: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def within(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether `address` (an IP address, else never) is in one of `networks`."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, networks: tuple[Network, ...]) -> str:
    """The client's address: the peer's, or, behind a trusted proxy, the right-most
    forwarded address that is not a trusted proxy."""
    peer = scope.get("client")
    address = peer[0] if peer else "unknown"
    if not networks or not within(address, networks):
        return address
    forwarded: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    for hop in reversed([hop for hop in forwarded if hop]):
        if not within(hop, networks):
            return hop
        address = hop
    return address


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            header: str = value.decode("latin-1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class RateLimiter:
    """The middleware. `rules` are matched in order; the first match applies."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rules: list[Rule],
        clients: Mapping[str, str],
        trusted_proxies: tuple[Network, ...],
    ) -> None:
        self.app = app
        self.rules = rules
        self.clients = {
            client: None if value.strip().lower() == OFF else _parse_limit(value.strip())[0]
            for client, value in clients.items()
        }
        self.trusted_proxies = trusted_proxies
        self.limiter = MovingWindows()

    def _rule(self, scope: Scope) -> Rule | None:
        method = scope.get("method", "")
        path = scope.get("path", "")
        for rule in self.rules:
            if rule.method in (method, "*") and rule.path.fullmatch(path):
                return rule
        return None

    async def _client(self, scope: Scope, rule: Rule) -> str:
        token = _bearer(scope) if not rule.failures_only else None
        authenticator = getattr(scope.get("app"), "state", None)
        authenticator = getattr(authenticator, "authenticator", None)
        if token and authenticator is not None:
            try:
                principal = await authenticator.principal(token)
            except Exception:  # an invalid token is counted by address; the route refuses it
                pass
            else:
                return f"sub:{principal.subject}"
        return f"ip:{client_address(scope, self.trusted_proxies)}"

    async def _refusal(
        self, items: tuple[RateLimitItem, ...], ids: tuple[str, ...]
    ) -> JSONResponse:
        reset = time.time() + 1
        for item in items:
            stats = self.limiter.get_window_stats(item, *ids)
            if stats.remaining <= 0:
                reset = max(reset, stats.reset_time)
        retry_after = max(1, math.ceil(reset - time.time()))
        return problems.problem_response(
            429,
            code="rate-limited",
            title="Too Many Requests",
            detail=f"Too many requests; try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self._rule(scope)
        if rule is None:
            await self.app(scope, receive, send)
            return
        client = await self._client(scope, rule)
        items: tuple[RateLimitItem, ...] | None = rule.items
        for key in (client, client.partition(":")[2]):
            if key in self.clients:
                items = self.clients[key]
                break
        if items is None:
            await self.app(scope, receive, send)
            return
        ids = (rule.key, client)
        # Every window is tested before any is hit: a request one window refuses (a minute's
        # burst) must not spend another's allowance (the day's), or a client retrying
        # through a short refusal would lock itself out for the day.
        allowed = all(self.limiter.test(item, *ids) for item in items)
        if allowed and not rule.failures_only:
            for item in items:
                self.limiter.hit(item, *ids)
        if not allowed:
            log.info("rate_limit.refused", route=rule.key, client=client)
            response = await self._refusal(items, ids)
            await response(scope, receive, send)
            return
        if not rule.failures_only:
            await self.app(scope, receive, send)
            return
        status = 0

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watching)
        if status in _FAILED:
            for item in items:
                self.limiter.hit(item, *ids)
