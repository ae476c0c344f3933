"""Resolving an endorser's did:web over https: its DID document's ``assertionMethod`` keys.

Used only for DIDs staff chose to trust (an endorsement being recorded) and for those in
endorsements this issuer embedded (the verification page), never for what the public posts
to ``POST /verify`` (which stays offline). https only, no redirects, a short timeout and a
small body; the answer is kept a few minutes (an endorser's key rotation is seen after that),
a failure half a minute.
Clients trust the system's CAs (``SSL_CERT_FILE`` as httpx reads it: the dev CA in the
dev stack).
"""

from __future__ import annotations

import json
import time

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from issuer.standards import did_web
from issuer.standards.jsonld import BoundedCache

TIMEOUT_S = 5.0
MAX_BYTES = 100_000
KEPT_S = 300.0
FAILURE_KEPT_S = 30.0

#: did -> (fetched at, keys)
_RESOLVED = BoundedCache(256)


class Unresolved(LookupError):
    """The did:web's document could not be fetched or is not its own; says why."""


async def assertion_keys(did: str, *, fresh: bool = False) -> dict[str, Ed25519PublicKey]:
    """Method id -> key for each Ed25519 ``assertionMethod`` of the did:web; Unresolved if
    its DID document cannot be had. ``fresh``: fetch it now (staff recording an endorsement
    see the endorser's document as it is), whatever was kept."""
    known = None if fresh else _RESOLVED.get(did)
    if known is not None and time.monotonic() - known[0] < KEPT_S:
        if isinstance(known[1], Unresolved):
            raise known[1]
        keys: dict[str, Ed25519PublicKey] = known[1]
        return keys
    try:
        keys = await _fetch(did)
    except Unresolved as error:
        # a host that is down is not asked again (and waited for) on every page view
        _RESOLVED[did] = (time.monotonic() - KEPT_S + FAILURE_KEPT_S, error)
        raise
    _RESOLVED[did] = (time.monotonic(), keys)
    return keys


async def _fetch(did: str) -> dict[str, Ed25519PublicKey]:
    try:
        url = did_web.document_url(did)
        body = bytearray()
        async with (
            httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/did+json"}) as response,
        ):
            if response.status_code != 200:
                raise Unresolved(f"cannot resolve {did}: {url} answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_BYTES:  # not read further
                    raise Unresolved(f"cannot resolve {did}: {url} is over {MAX_BYTES} bytes")
        keys = did_web.assertion_keys(json.loads(bytes(body)), did)
    except (httpx.HTTPError, ValueError) as error:
        raise Unresolved(f"cannot resolve {did}: {error}") from error
    return keys
