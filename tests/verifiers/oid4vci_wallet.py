"""A holder wallet on the OpenWallet Foundation's OpenID4VCI client (``oid4vci/wallet.mjs``,
npm ``@openid4vc/openid4vci``), run from Python tests.

``claim_with_oid4vci(offer, ca_cert, pin=None)`` -> ``(holder DID, [credentials])``. The npm
packages install on first use (``npm ci`` from the committed lock file, under a file lock);
without node/npm the calling test is skipped (fails with ``CREDSTACK_REQUIRE_VERIFIERS``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.npm import npm_ci_once
from tests.verifiers.digitalbazaar import require_node

WALLET_DIR = Path(__file__).resolve().parent / "oid4vci"


def _ensure_installed() -> None:
    npm_ci_once(WALLET_DIR)


def claim_with_oid4vci(
    offer: str, ca_cert: Path, *, pin: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Take the offer as a wallet would; RuntimeError with the library's error if refused."""
    require_node()
    _ensure_installed()
    payload: dict[str, Any] = {"offer": offer}
    if pin is not None:
        payload["pin"] = pin
    done = subprocess.run(
        ["node", "wallet.mjs"],
        cwd=WALLET_DIR,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(ca_cert)},
    )
    lines = done.stdout.strip().splitlines()
    answer: dict[str, Any] = json.loads(lines[-1]) if lines else {"error": done.stderr}
    if done.returncode != 0 or "error" in answer:
        raise RuntimeError(f"the OpenID4VCI wallet failed: {answer.get('error')}")
    return str(answer["holder"]), list(answer["credentials"])
