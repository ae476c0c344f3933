"""The issuer served for real (uvicorn, https on loopback with the dev CA), for clients that
are separate processes: the W3C suites, the OpenID4VCI wallet."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from credstack import devtls
from credstack.testing import Tokens, migrate_once, service_settings, truncate
from issuer import tables
from issuer.main import create_app
from issuer.settings import Settings


@dataclass(frozen=True)
class Served:
    base: str
    app: FastAPI
    ca_cert: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def https_issuer(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path, **overrides: Any
) -> AsyncIterator[Served]:
    tls = devtls.ensure(tmp_path / "tls")
    print(f"dev CA certificate: {tls.ca_cert}")
    port = _free_port()
    base = f"https://127.0.0.1:{port}"
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url=base,
        **overrides,
    )
    await asyncio.to_thread(migrate_once, settings.database_url, "issuer")
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ssl_certfile=str(tls.cert),
            ssl_keyfile=str(tls.key),
            log_level="warning",
            lifespan="on",
        )
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(300):
        if server.started:
            break
        await asyncio.sleep(0.1)
    assert server.started, "uvicorn did not start"
    await truncate(settings.database_url, tables.metadata)
    try:
        yield Served(base, app, tls.ca_cert)
    finally:
        server.should_exit = True
        await serving
