"""A bearer token may live at most the configured lifetime (credstack.auth)."""

import time

import httpx
from fastapi import FastAPI
from joserfc import jwt

from credstack import devauth, problems
from credstack.auth import Authenticator, KeySource, Principal, require
from credstack.testing import Tokens


def app_for(tokens: Tokens, max_lifetime_seconds: int) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.state.authenticator = Authenticator(
        KeySource(tokens.jwks_url),
        issuer="credstack-dev",
        audience="credstack",
        max_lifetime_seconds=max_lifetime_seconds,
    )

    @app.get("/me")
    async def me(principal: Principal = require("learner")) -> dict[str, str]:
        return {"subject": principal.subject}

    return app


def raw_token(tokens: Tokens, **claims: object) -> dict[str, str]:
    payload = {"iss": "credstack-dev", "aud": "credstack", "sub": "x", "scope": "learner"}
    token = jwt.encode({"alg": "ES256", "kid": tokens.key.kid}, {**payload, **claims}, tokens.key)
    return {"Authorization": f"Bearer {token}"}


async def test_a_ten_year_token_is_refused_and_a_short_one_accepted(tokens: Tokens) -> None:
    transport = httpx.ASGITransport(app=app_for(tokens, 24 * 3600))
    now = int(time.time())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        hour = await http.get("/me", headers=tokens("learner", "alice"))
        day = await http.get("/me", headers=raw_token(tokens, iat=now, exp=now + 24 * 3600))
        decade = await http.get(
            "/me",
            headers={
                "Authorization": "Bearer "
                + devauth.mint(tokens.key, role="learner", lifetime_seconds=10 * 365 * 86400)
            },
        )
        no_iat = await http.get("/me", headers=raw_token(tokens, exp=now + 30 * 86400))
        future_iat = await http.get(
            "/me", headers=raw_token(tokens, iat=now + 86400 * 365, exp=now + 86400 * 365 + 60)
        )

    assert (hour.status_code, day.status_code) == (200, 200)
    assert decade.status_code == 401
    assert decade.headers["content-type"] == problems.MEDIA_TYPE
    assert "longer than 86400 s" in decade.json()["detail"]
    assert decade.headers["www-authenticate"].startswith("Bearer")
    assert (no_iat.status_code, future_iat.status_code) == (401, 401)


async def test_the_limit_is_a_setting(tokens: Tokens) -> None:
    transport = httpx.ASGITransport(app=app_for(tokens, 600))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        hour = await http.get("/me", headers=tokens("learner", "alice"))
    assert hour.status_code == 401
