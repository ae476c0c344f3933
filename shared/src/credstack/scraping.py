"""Who may read a service's Prometheus metrics (`GET /metrics`).

Metrics name routes, event types, consumers and error kinds: they are for the platform's
monitoring, not the public. A scrape is allowed when

- it carries `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time), or
- it comes straight from an address in `METRICS_NETWORKS` (comma-separated addresses or
  networks; default loopback only) and not through a proxy: a request with
  `X-Forwarded-For` or `Forwarded` came through the ingress, whatever its peer address.

Anything else is refused: 401 with `WWW-Authenticate: Bearer` for a wrong token, 403 for
none.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from credstack import access
from credstack.problems import Problem
from credstack.ratelimit import Network, client_address, trusted_networks, within


class MetricsAccess:
    def __init__(self, *, networks: str, token: str | None) -> None:
        self.networks: tuple[Network, ...] = trusted_networks(networks)
        self.token = token or None

    def check(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if header:
            if (
                self.token is not None
                and scheme.lower() == "bearer"
                and hmac.compare_digest(given.strip().encode(), self.token.encode())
            ):
                return
            raise Problem(
                401,
                "unauthenticated",
                "Not the metrics token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
        if not proxied and self.networks:
            peer = client_address(request.scope, ())
            if within(peer, self.networks):
                return
        raise Problem(
            403,
            "forbidden",
            "Metrics are for the platform's monitoring: scrape from METRICS_NETWORKS or with "
            "the METRICS_TOKEN bearer token.",
        )


@access.scheme("monitoring: from METRICS_NETWORKS, or bearer METRICS_TOKEN")
async def scraper(request: Request) -> None:
    """The dependency `GET /metrics` declares: the app's `MetricsAccess` decides."""
    request.app.state.metrics_access.check(request)
