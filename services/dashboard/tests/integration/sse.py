"""A small SSE client for the tests: real HTTP against uvicorn, parsed per the HTML spec."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from credstack import engines


@dataclass
class Message:
    id: str | None
    event: str
    data: str

    @property
    def cloudevent(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.data)
        return parsed


async def messages(response: httpx.Response) -> AsyncIterator[Message]:
    event, data, id_ = "message", [], None
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield Message(id=id_, event=event, data="\n".join(data))
            event, data, id_ = "message", [], None
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id":
                id_ = value


async def read(
    base_url: str,
    *,
    count: int,
    headers: dict[str, str],
    params: dict[str, Any] | None = None,
    seconds: float = 20,
) -> list[Message]:
    """Open the stream, take `count` messages, then drop the connection."""
    got: list[Message] = []
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=seconds) as client,
        asyncio.timeout(seconds),
        client.stream("GET", "/stream", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for message in messages(response):
            got.append(message)
            if len(got) >= count:
                break
    return got


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` served over real HTTP by uvicorn (in this event loop), with its lifespan."""
    port = engines.free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        await asyncio.wait_for(task, 15)
