"""Every error a service returns is an RFC 9457 problem detail."""

import httpx
from fastapi import FastAPI

from credstack import problems


async def test_an_unexpected_error_is_a_500_problem_that_reveals_nothing() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/boom")
        missing = await client.get("/nowhere")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text
    assert (missing.status_code, missing.json()["type"]) == (
        404,
        "https://credstack.dev/problems/not-found",
    )
