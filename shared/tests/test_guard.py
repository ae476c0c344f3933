"""Hostile input gets a 4xx problem detail before any route sees it (credstack.guard)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from credstack import problems
from credstack.db import async_url
from credstack.guard import InputGuard, Limits
from credstack.validation import LanguageTag

seen: list[Any] = []


def app_with_guard() -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.add_middleware(
        InputGuard, limits=Limits(body_bytes=30_000, json_depth=8, routes={"/upload": 60_000})
    )

    @app.post("/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        seen.append(body)
        return body

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/items")
    async def items(q: str = "") -> dict[str, str]:
        return {"q": q}

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<!doctype html><p>hi</p>"

    @app.get("/image.png")
    async def image() -> Response:
        return Response(b"\x89PNG", media_type="image/png")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    seen.clear()
    transport = httpx.ASGITransport(app=app_with_guard(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/" + code)


async def test_a_nul_byte_in_the_path_or_query_is_refused(client: httpx.AsyncClient) -> None:
    problem(await client.get("/items?q=a%00b"), 400, "malformed-request")
    problem(await client.get("/items%00"), 400, "malformed-request")
    assert (await client.get("/items?q=ab")).json() == {"q": "ab"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"a": "x\\u0000y"}', 400, "malformed-request"),
        (b'{"a\\u0000": 1}', 400, "malformed-request"),
        (b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", 400, "malformed-request"),
        (b'{"a": [[[[[[[[[1]]]]]]]]]}', 400, "malformed-request"),
        (b'{"a": 1e400}', 422, "number-out-of-range"),
        (b'{"a": NaN}', 422, "number-out-of-range"),
        (b'{"a": 99999999999999999999}', 422, "number-out-of-range"),
    ],
    ids=["nul in a string", "nul in a key", "10,000 deep", "9 deep", "1e400", "NaN", "> int64"],
)
async def test_hostile_json_is_refused_before_the_route(
    client: httpx.AsyncClient, body: bytes, status: int, code: str
) -> None:
    response = await client.post(
        "/echo", content=body, headers={"content-type": "application/json"}
    )
    problem(response, status, code)
    assert seen == []


async def test_json_within_the_limits_reaches_the_route(client: httpx.AsyncClient) -> None:
    body = {"a": [[[[["deep enough"]]]]], "n": 2**63 - 1, "x": 1.5}
    assert (await client.post("/echo", json=body)).json() == body
    problem(
        await client.post(
            "/echo", content=b"{not json", headers={"content-type": "application/json"}
        ),
        400,
        "malformed-request",
    )


async def test_a_body_over_the_limit_is_413_by_length_or_as_it_streams(
    client: httpx.AsyncClient,
) -> None:
    problem(await client.post("/raw", content=b"x" * 30_001), 413, "too-large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * 2000

    problem(await client.post("/raw", content=chunks()), 413, "too-large")
    assert (await client.post("/raw", content=b"x" * 30_000)).json() == {"bytes": 30_000}


async def test_a_route_may_take_a_larger_body(client: httpx.AsyncClient) -> None:
    assert (await client.post("/upload", content=b"x" * 40_000)).json() == {"bytes": 40_000}
    problem(await client.post("/upload", content=b"x" * 60_001), 413, "too-large")


async def test_every_response_carries_security_headers_and_pages_a_csp(
    client: httpx.AsyncClient,
) -> None:
    for response in [await client.get("/page"), await client.get("/image.png")]:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    api = await client.get("/items")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api.headers


async def test_a_value_the_database_cannot_hold_is_422_not_500(database_url: str) -> None:
    engine = create_async_engine(async_url(database_url))
    app = FastAPI()
    problems.install(app)

    @app.get("/rows/{row_id}")
    async def row(row_id: int) -> dict[str, int]:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT CAST(:id AS bigint)"), {"id": row_id})
        return {"id": row_id}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        problem(await http.get(f"/rows/{2**70}"), 422, "value-out-of-range")
        assert (await http.get("/rows/7")).json() == {"id": 7}
    await engine.dispose()


@pytest.mark.parametrize(
    "tag",
    [
        "en",
        "fr-CA",
        "zh-Hans-CN",
        "sl-rozaj-biske",
        "de-CH-1901",
        "en-US-u-ca-gregory-x-abc1",
        "en-US-u-ca-gregory-nu-arab-x-private-abc1-longer",
    ],
)
def test_valid_language_tags_of_any_length_are_accepted(tag: str) -> None:
    assert TypeAdapter(LanguageTag).validate_python(tag) == tag


@pytest.mark.parametrize(
    "tag", ["", "e", "en--US", "toolonglanguage", "en_US", "en-" + "x" * 40, "a\x00"]
)
def test_malformed_language_tags_are_refused(tag: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(LanguageTag).validate_python(tag)


def test_log_lines_carry_no_email_address() -> None:
    from credstack.observability import _mask_emails

    masked = _mask_emails(
        None,
        "info",
        {"event": "mail.sent to ada.lovelace@example.org", "to": ["bob@uni.edu.au"], "n": 1},
    )
    assert masked == {"event": "mail.sent to a***@example.org", "to": ["b***@uni.edu.au"], "n": 1}


def test_the_processes_write_files_for_their_owner_only(tmp_path: Path) -> None:
    import os

    from credstack import observability

    before = os.umask(0o022)
    try:
        observability.configure("test")
        written = tmp_path / "mail.eml"
        written.write_text("secret")
        assert written.stat().st_mode & 0o077 == 0
    finally:
        os.umask(before)
