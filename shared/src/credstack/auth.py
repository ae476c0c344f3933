"""OAuth2 bearer JWTs with scopes, verified against a JWKS.

In production the JWKS is the university identity provider's; in the dev stack it is
the local issuer's (`credstack.devauth`). The key set is fetched once and fetched
again when a token names a key id it does not hold (key rotation).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse
from uuid import NAMESPACE_URL, UUID, uuid5

import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from credstack.access import mark, scopes_rule
from credstack.problems import Problem

ALGORITHMS = ["ES256", "RS256", "Ed25519"]
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
"""The longest a bearer token may live (`exp - iat`); settings: AUTH_MAX_TOKEN_LIFETIME_SECONDS."""
CLOCK_SKEW_SECONDS = 60

# The scopes each role's tokens carry. The identity provider maps its groups to these.
ROLE_SCOPES: dict[str, list[str]] = {
    "staff": [
        "catalogue:write",
        "enrolment:manage",
        "assessment:moderate",
        "issuer:manage",
        "platform:operate",
        "notifier:manage",
    ],
    "approver": ["catalogue:write", "catalogue:approve"],
    "learner": ["learner"],
    "lms": ["grades:write"],
    "payment": [],
}


def learner_id_for(subject: str) -> UUID:
    """A learner's stable id across services, derived from the identity provider's subject."""
    return uuid5(NAMESPACE_URL, f"credstack:learner:{subject}")


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.claims.get("name") or self.subject)

    @property
    def learner_id(self) -> UUID:
        return learner_id_for(self.subject)


class KeySource:
    """The verification keys at `jwks_url` (https:// or file://), cached."""

    def __init__(self, jwks_url: str, *, min_refresh_seconds: float = 30.0) -> None:
        self.jwks_url = jwks_url
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    async def _fetch(self) -> KeySet:
        parsed = urlparse(self.jwks_url)
        if parsed.scheme == "file":
            document = json.loads(await asyncio.to_thread(Path(parsed.path).read_text))
        else:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                document = response.json()
        self._fetched_at = time.monotonic()
        return KeySet.import_key_set(document)

    async def keys(self, kid: str | None) -> KeySet:
        stale = time.monotonic() - self._fetched_at > self.min_refresh_seconds
        known = self._keys is not None and (
            kid is None or any(k.kid == kid for k in self._keys.keys)
        )
        if self._keys is None or (not known and stale):
            self._keys = await self._fetch()
        return self._keys


class Authenticator:
    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        max_lifetime_seconds: int = MAX_TOKEN_LIFETIME_SECONDS,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.max_lifetime_seconds = max_lifetime_seconds

    async def principal(self, token: str) -> Principal:
        try:
            header = extract_compact(token.encode()).protected
            keys = await self.keys.keys(header.get("kid"))
            decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, IndexError) as error:
            raise _unauthorized(f"The bearer token is not valid: {error}") from error
        self._check_lifetime(decoded.claims)
        scope = decoded.claims.get("scope", "")
        return Principal(
            subject=str(decoded.claims["sub"]),
            scopes=frozenset(scope.split()),
            claims=decoded.claims,
        )

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """A token may live at most `max_lifetime_seconds`, counted from its `iat` (or from
        now when it has none): a stolen long-lived token is worth little."""
        try:
            expires = float(claims["exp"])
            issued = float(claims.get("iat", time.time()))
        except (TypeError, ValueError) as error:
            raise _unauthorized("The bearer token's exp or iat is not a number.") from error
        if issued > time.time() + CLOCK_SKEW_SECONDS:
            raise _unauthorized("The bearer token is issued in the future.")
        if expires - issued > self.max_lifetime_seconds:
            raise _unauthorized(
                f"The bearer token lives longer than {self.max_lifetime_seconds} s; "
                "ask for a shorter-lived one."
            )


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401, "unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="credstack"'}
    )


def _insufficient_scope(scopes: tuple[str, ...]) -> str:
    return f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'


_bearer = HTTPBearer(auto_error=False)


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("This operation needs a bearer token.")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.principal(credentials.credentials)


def require(*scopes: str) -> Any:
    """A dependency giving the caller's Principal when the token holds all of `scopes`."""

    async def dependency(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        missing = set(scopes) - principal.scopes
        if missing:
            raise Problem(
                403,
                "insufficient-scope",
                f"This operation needs the scope(s): {', '.join(sorted(missing))}.",
                headers={"WWW-Authenticate": _insufficient_scope(scopes)},
            )
        return principal

    return Depends(mark(dependency, scopes_rule(scopes)))
