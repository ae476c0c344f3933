"""The dev stack's local token issuer: a P-256 key in the data folder, its JWKS, and tokens.

Production uses the university's identity provider instead; services only ever see the
JWKS URL. `credstack token --role ROLE` and the demo mint tokens with this key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey

from credstack.auth import ROLE_SCOPES

KEY_FILE = "dev-token-issuer.jwk.json"
JWKS_FILE = "jwks.json"


def signing_key(data_dir: Path) -> ECKey:
    """The dev issuer's key, generated on first use and kept in `data_dir`."""
    path = data_dir / KEY_FILE
    if path.exists():
        return ECKey.import_key(json.loads(path.read_text()))
    data_dir.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key("P-256", parameters={"kid": uuid4().hex, "use": "sig", "alg": "ES256"})
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    (data_dir / JWKS_FILE).write_text(json.dumps(jwks(key)))
    return key


def jwks(key: ECKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False)]}


def mint(
    key: ECKey,
    *,
    role: str,
    subject: str | None = None,
    issuer: str = "credstack-dev",
    audience: str = "credstack",
    lifetime_seconds: int = 3600,
    **claims: Any,
) -> str:
    if role not in ROLE_SCOPES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLE_SCOPES)}")
    now = int(time.time())
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or f"{role}-{uuid4().hex[:8]}",
        "iat": now,
        "exp": now + lifetime_seconds,
        "scope": " ".join(ROLE_SCOPES[role]),
        "roles": [role],
        **claims,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, payload, key)


def create_app(data_dir: Path) -> FastAPI:
    """The local issuer's JWKS endpoint, which the services verify tokens against."""
    key = signing_key(data_dir)
    app = FastAPI(title="Credstack dev token issuer")

    @app.get("/.well-known/jwks.json")
    async def keys() -> dict[str, Any]:
        return jwks(key)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """For uvicorn: the issuer whose key is in `$CREDSTACK_DATA_DIR`."""
    import os

    return create_app(Path(os.environ.get("CREDSTACK_DATA_DIR", ".data")))
