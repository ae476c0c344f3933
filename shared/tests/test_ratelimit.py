"""Rate limits (credstack.ratelimit): per route and client, 429 problem with Retry-After."""

from collections.abc import Mapping

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits import parse_many

from credstack import moving_window, problems, ratelimit
from credstack.auth import Authenticator, KeySource
from credstack.ratelimit import RateLimiter
from credstack.testing import Tokens

calls: list[str] = []


def app_with_limits(
    tokens: Tokens,
    *,
    overrides: Mapping[str, str] | None = None,
    clients: Mapping[str, str] | None = None,
    proxies: str = "",
) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.state.authenticator = Authenticator(
        KeySource(tokens.jwks_url), issuer="credstack-dev", audience="credstack"
    )
    app.add_middleware(
        RateLimiter,
        rules=ratelimit.rules_of(
            {
                "GET /search": "3/minute",
                "POST /things/[^/]+/interest": "2/minute",
                "POST /intake": "failures:2/minute",
            },
            overrides or {},
        ),
        clients=clients or {},
        trusted_proxies=ratelimit.trusted_networks(proxies),
    )

    @app.get("/search")
    async def search() -> dict[str, str]:
        calls.append("search")
        return {"ok": "yes"}

    @app.get("/free")
    async def free() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/things/{code}/interest")
    async def interest(code: str) -> dict[str, str]:
        calls.append(code)
        return {"ok": code}

    @app.post("/intake")
    async def intake(request: Request) -> JSONResponse:
        calls.append("intake")
        if request.headers.get("authorization") != "Basic right":
            return JSONResponse({"detail": "wrong"}, status_code=401)
        return JSONResponse({"ok": "yes"})

    return app


def client(app: FastAPI, peer: str = "203.0.113.9") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture(autouse=True)
def _clear() -> None:
    calls.clear()


async def test_a_route_over_its_limit_is_refused_429_with_retry_after(tokens: Tokens) -> None:
    async with client(app_with_limits(tokens)) as http:
        answers = [await http.get("/search") for _ in range(4)]
        free = [await http.get("/free") for _ in range(10)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == problems.MEDIA_TYPE
    assert refused.json()["type"].endswith("rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
    assert calls == ["search"] * 3, "the refused request never reached the route"
    assert {a.status_code for a in free} == {200}, "routes without a rule are not limited"


async def test_a_request_refused_by_one_window_spends_none_of_the_others(tokens: Tokens) -> None:
    """A client retrying through the minute's refusal keeps the day's allowance."""
    app = app_with_limits(tokens, overrides={"GET /search": "2/minute;4/day"})
    async with client(app) as http:
        answers = [(await http.get("/search")).status_code for _ in range(10)]
    assert answers == [200, 200] + [429] * 8
    middleware = app.middleware_stack
    while not isinstance(middleware, RateLimiter):
        middleware = middleware.app  # type: ignore[attr-defined]
    (day,) = [item for item in middleware.rules[0].items if item.GRANULARITY.name == "day"]
    stats = middleware.limiter.get_window_stats(day, "GET /search", "ip:203.0.113.9")
    assert stats.remaining == 2, "the eight refused requests counted against the day"


async def test_each_client_has_its_own_count_by_address_or_token_subject(tokens: Tokens) -> None:
    app = app_with_limits(tokens)
    async with client(app, "198.51.100.1") as first, client(app, "198.51.100.2") as second:
        a = [(await first.post("/things/x/interest")).status_code for _ in range(3)]
        b = [(await second.post("/things/x/interest")).status_code for _ in range(3)]
        alice = [
            (await first.post("/things/x/interest", headers=tokens("learner", "alice"))).status_code
            for _ in range(3)
        ]
        bob = [
            (await first.post("/things/x/interest", headers=tokens("learner", "bob"))).status_code
            for _ in range(2)
        ]
        forged = await first.post(
            "/things/x/interest", headers={"Authorization": "Bearer not-a-token"}
        )

    assert a == b == alice == [200, 200, 429]
    assert bob == [200, 200]
    assert forged.status_code == 429, "an invalid token counts against the address"


async def test_only_trusted_proxies_may_name_the_client_address(tokens: Tokens) -> None:
    app = app_with_limits(tokens, proxies="10.0.0.0/8")
    async with client(app, "10.1.2.3") as proxy, client(app, "203.0.113.50") as direct:
        # Behind the proxy: each forwarded client has its own count; a spoofed left-most
        # address added by the client itself is ignored.
        one = [
            (
                await proxy.get("/search", headers={"X-Forwarded-For": f"1.1.1.{i}, 192.0.2.7"})
            ).status_code
            for i in range(4)
        ]
        other = (await proxy.get("/search", headers={"X-Forwarded-For": "192.0.2.8"})).status_code
        # Not a trusted proxy: the header is ignored, the peer is counted.
        spoof = [
            (await direct.get("/search", headers={"X-Forwarded-For": f"192.0.2.{i}"})).status_code
            for i in range(20, 24)
        ]

    assert one == [200, 200, 200, 429]
    assert other == 200
    assert spoof == [200, 200, 200, 429]


def test_the_client_address_behind_several_proxies() -> None:
    networks = ratelimit.trusted_networks("10.0.0.0/8, 172.16.0.1")
    scope = {
        "client": ("10.0.0.5", 1),
        "headers": [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.4, 172.16.0.1")],
    }
    assert ratelimit.client_address(scope, networks) == "198.51.100.4"
    assert ratelimit.client_address({**scope, "client": ("8.8.8.8", 1)}, networks) == "8.8.8.8"
    assert ratelimit.client_address({"client": ("10.0.0.5", 1), "headers": []}, networks) == (
        "10.0.0.5"
    )


async def test_failures_only_rules_count_wrong_credentials_and_then_refuse_all(
    tokens: Tokens,
) -> None:
    async with client(app_with_limits(tokens)) as http:
        good = [
            (await http.post("/intake", headers={"Authorization": "Basic right"})).status_code
            for _ in range(5)
        ]
        wrong = [
            (await http.post("/intake", headers={"Authorization": "Basic guess"})).status_code
            for _ in range(3)
        ]
        right_after = await http.post("/intake", headers={"Authorization": "Basic right"})

    assert good == [200] * 5, "accepted credentials do not count"
    assert wrong == [401, 401, 429]
    assert right_after.status_code == 429, "once spent, even the right password waits"
    assert "retry-after" in right_after.headers
    assert calls.count("intake") == 7


async def test_settings_override_a_route_and_a_client(tokens: Tokens) -> None:
    app = app_with_limits(
        tokens,
        overrides={"GET /search": "off", "POST /things/[^/]+/interest": "1/minute"},
        clients={"sub:partner": "off", "198.51.100.9": "5/minute"},
    )
    async with client(app) as http, client(app, "198.51.100.9") as listed:
        search = {(await http.get("/search")).status_code for _ in range(10)}
        interest = [(await http.post("/things/x/interest")).status_code for _ in range(2)]
        partner = {
            (await http.post("/things/x/interest", headers=tokens("staff", "partner"))).status_code
            for _ in range(10)
        }
        generous = [(await listed.post("/things/x/interest")).status_code for _ in range(6)]

    assert search == {200}
    assert interest == [200, 429]
    assert partner == {200}
    assert generous == [200] * 5 + [429]


def test_a_malformed_rule_stops_the_service_at_start() -> None:
    with pytest.raises(ValueError):
        ratelimit.rules_of({"/search": "3/minute"}, {})
    with pytest.raises(ValueError):
        ratelimit.rules_of({"GET /search": "often"}, {})


def test_a_moving_window_counts_the_last_hits_and_forgets_idle_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1_000.0]
    monkeypatch.setattr(moving_window.time, "time", lambda: clock[0])
    windows = moving_window.MovingWindows(sweep_every=60)
    (minute,) = parse_many("2/minute")
    for _ in range(2):
        assert windows.test(minute, "GET /x", "ip:a")
        windows.hit(minute, "GET /x", "ip:a")
    assert not windows.test(minute, "GET /x", "ip:a")
    assert windows.test(minute, "GET /x", "ip:b"), "each client has its own count"
    stats = windows.get_window_stats(minute, "GET /x", "ip:a")
    assert (stats.remaining, stats.reset_time) == (0, 1_060.0)
    clock[0] = 1_060.5  # the first two hits have left the window
    assert windows.test(minute, "GET /x", "ip:a")
    windows.hit(minute, "GET /x", "ip:c")  # the sweep is due: a's hits are all past
    assert len(windows) == 1, "only the client with a hit in its window is kept"
