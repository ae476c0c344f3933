"""Run Digital Bazaar's JavaScript VC verifier (``dbvc/verify.mjs``) from Python tests.

``verify_with_digitalbazaar(credential, documents)`` -> ``{"verified": bool,
"statusResult": dict | None, "error": str | None, "errors": [str]}``. ``documents`` maps
URL -> JSON document for everything the credential refers to beyond the JSON-LD contexts:
the issuer's DID document (under the DID, e.g. ``did:web:localhost%3A8004``; a
verification method ``did:web:...#key-1`` is found inside it), status list credentials.
Contexts come only from the reference folder (``$CREDSTACK_REFERENCE_DIR``, default
``<repo>/../shared/reference``); nothing is fetched from the network.

The npm packages are installed on first use (``npm ci`` from the committed lock file, under
a file lock so parallel test processes do not race). Without ``node``/``npm`` on PATH the
calling test is skipped, or fails if ``CREDSTACK_REQUIRE_VERIFIERS`` is set (for CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.npm import npm_ci_once

__all__ = [
    "DBVC_DIR",
    "require_node",
    "requires_node",
    "sign_did_authentication",
    "verify_with_digitalbazaar",
]

DBVC_DIR = Path(__file__).resolve().parent / "dbvc"
_NODE_MISSING = "node and npm are needed for Digital Bazaar's verifier: install Node.js 20+"
_VERIFY_TIMEOUT_S = 120


def _node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def require_node() -> None:
    """Skip the calling test unless node and npm are on PATH (fail instead in strict CI)."""
    if _node_available():
        return
    if os.environ.get("CREDSTACK_REQUIRE_VERIFIERS"):
        pytest.fail(_NODE_MISSING + " (CREDSTACK_REQUIRE_VERIFIERS is set)")
    pytest.skip(_NODE_MISSING + f"; PATH={os.environ.get('PATH', '')}")


#: Marker form of :func:`require_node`: ``@requires_node`` on a test or class.
requires_node = pytest.mark.skipif(
    not _node_available() and not os.environ.get("CREDSTACK_REQUIRE_VERIFIERS"),
    reason=_NODE_MISSING,
)


def _ensure_installed() -> None:
    npm_ci_once(DBVC_DIR)


def verify_with_digitalbazaar(
    credential: Mapping[str, Any],
    documents: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    now: str | None = None,
) -> dict[str, Any]:
    """Verify ``credential`` with @digitalbazaar/vc (eddsa-rdfc-2022, safe mode, status).

    ``now`` (an ISO date-time) overrides the verifier's clock for validity-window checks.
    ``verified`` is false for a bad signature, an undefined term, an issuer that is not
    the key's controller, a key not listed in ``assertionMethod``, a credential outside
    its validity window, or a revoked/suspended status (``statusResult`` has the details).
    Raises ``RuntimeError`` if the harness itself fails (no JSON verdict).
    """
    require_node()
    _ensure_installed()
    payload: dict[str, Any] = {"credential": credential, "documents": dict(documents or {})}
    if now is not None:
        payload["now"] = now
    completed = subprocess.run(
        ["node", "verify.mjs"],
        cwd=DBVC_DIR,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=_VERIFY_TIMEOUT_S,
        check=False,
    )
    try:
        verdict: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(
            f"verify.mjs gave no verdict (exit {completed.returncode}):\n"
            f"stdout: {completed.stdout}\nstderr: {completed.stderr}"
        ) from None
    if completed.returncode == 2:
        raise RuntimeError(f"verify.mjs rejected its input: {verdict.get('error')}")
    return verdict


def sign_did_authentication(
    challenge: str, domain: str, *, seed: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A holder wallet on Digital Bazaar's libraries (``dbvc/wallet.mjs``): a new did:key
    (or the one of ``seed``, 64 hex characters) and a presentation signed for DID
    authentication (eddsa-rdfc-2022, ``challenge`` and ``domain``). -> (holder DID, VP)."""
    require_node()
    _ensure_installed()
    payload: dict[str, Any] = {"challenge": challenge, "domain": domain}
    if seed is not None:
        payload["seed"] = seed
    completed = subprocess.run(
        ["node", "wallet.mjs"],
        cwd=DBVC_DIR,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=_VERIFY_TIMEOUT_S,
        check=False,
    )
    answer: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    if completed.returncode != 0 or "error" in answer:
        raise RuntimeError(f"wallet.mjs failed: {answer.get('error')}\n{completed.stderr}")
    return str(answer["holder"]), answer["presentation"]
