"""Who may read /metrics (credstack.scraping): the monitoring's networks, directly, or the
metrics token; never the public through the ingress."""

import pytest
from starlette.requests import Request

from credstack.problems import Problem
from credstack.scraping import MetricsAccess


def request(peer: str, **headers: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/metrics",
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
            "client": (peer, 40000),
        }
    )


def refusal(access: MetricsAccess, scrape: Request) -> int | None:
    try:
        access.check(scrape)
    except Problem as problem:
        return problem.status
    return None


def test_a_direct_scrape_from_the_monitoring_networks_is_allowed() -> None:
    access = MetricsAccess(networks="127.0.0.0/8,::1,10.42.0.0/16", token=None)
    assert refusal(access, request("127.0.0.1")) is None
    assert refusal(access, request("::1")) is None
    assert refusal(access, request("10.42.7.9")) is None


def test_the_public_and_anything_through_the_ingress_is_refused() -> None:
    access = MetricsAccess(networks="127.0.0.0/8,10.42.0.0/16", token=None)
    assert refusal(access, request("203.0.113.9")) == 403
    assert refusal(access, request("10.42.0.3", x_forwarded_for="203.0.113.9")) == 403
    assert refusal(access, request("127.0.0.1", forwarded="for=203.0.113.9")) == 403
    assert refusal(access, request("127.0.0.1", authorization="Bearer guess")) == 401


def test_the_metrics_token_is_allowed_from_anywhere_and_nothing_else_is() -> None:
    access = MetricsAccess(networks="", token="s3cret-scrape-token")
    assert (
        refusal(access, request("198.51.100.4", authorization="Bearer s3cret-scrape-token")) is None
    )
    assert refusal(access, request("198.51.100.4", authorization="Bearer s3cret")) == 401
    assert (
        refusal(access, request("198.51.100.4", authorization="Basic s3cret-scrape-token")) == 401
    )
    assert refusal(access, request("127.0.0.1")) == 403, "no networks: loopback is no exception"


@pytest.mark.parametrize("networks", ["not-a-network", "10.0.0.0/33"])
def test_a_malformed_network_stops_the_service_at_start(networks: str) -> None:
    with pytest.raises(ValueError):
        MetricsAccess(networks=networks, token=None)
