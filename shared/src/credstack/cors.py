"""Cross-origin requests from browsers, for the services whose settings allow them.

Starlette's `CORSMiddleware` does the protocol (preflight `OPTIONS`, the
`Access-Control-*` headers, `Vary: Origin`); this module only decides from the settings
whether a service has it and for which origins. A service with no allowed origin gets
no middleware: browsers then keep other origins out, as before.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from credstack.settings import ServiceSettings

LOCALHOST_ANY_PORT = r"^http://(localhost|127\.0\.0\.1)(:\d{1,5})?$"
"""A website developed locally: allowed in the dev stack where `cors_allow_localhost`."""


def install(app: FastAPI, settings: ServiceSettings) -> None:
    """Answer cross-origin requests from `settings.cors_origins` (and, in the dev stack,
    from http://localhost on any port where `cors_allow_localhost`)."""
    localhost = settings.cors_allow_localhost and settings.dev_stack
    if not settings.cors_origins and not localhost:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o.rstrip("/") for o in settings.cors_origins],
        allow_origin_regex=LOCALHOST_ANY_PORT if localhost else None,
        allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["Accept", "Accept-Language", "Content-Type", "Idempotency-Key"],
        expose_headers=["Link", "Retry-After"],
        allow_credentials=False,
        max_age=600,
    )
