"""The fuzzing helper finds what it is for: a 5xx and a response unlike its schema."""

from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from credstack import problems
from credstack.fuzzing import fuzz
from credstack.testing import ServiceUnderTest


class Item(BaseModel):
    id: int


async def test_fuzzing_reports_server_errors_and_schema_violations() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/crash/{n}", response_model=Item)
    async def crash(n: int) -> Item:
        raise RuntimeError("boom")

    @app.get(
        "/lies",
        responses={
            200: {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["id"],
                            "properties": {"id": {"type": "integer"}},
                        }
                    }
                }
            }
        },
    )
    async def lies() -> Any:
        return {"name": "not an item"}

    @app.get("/fine", response_model=Item)
    async def fine() -> Item:
        return Item(id=1)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        found = await fuzz(ServiceUnderTest(app=app, http=http, engine=None), max_examples=3)  # type: ignore[arg-type]

    assert any(line.startswith("GET /crash/{n}") for line in found), found
    assert any(line.startswith("GET /lies") for line in found), found
    assert not any(line.startswith("GET /fine") for line in found), found
