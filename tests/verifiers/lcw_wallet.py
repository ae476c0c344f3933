"""A wallet signing DID authentication as Learner Credential Wallet does (``lcw/wallet.mjs``:
Ed25519Signature2020 with Digital Bazaar's suite, a VC 1.1 presentation by a did:key).

``sign_did_authentication_2020(challenge, domain)`` -> ``(holder DID, presentation)``. The npm
packages install on first use from the committed lock file.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.npm import npm_ci_once
from tests.verifiers.digitalbazaar import require_node

WALLET_DIR = Path(__file__).resolve().parent / "lcw"


def _ensure_installed() -> None:
    npm_ci_once(WALLET_DIR)


def sign_did_authentication_2020(challenge: str, domain: str) -> tuple[str, dict[str, Any]]:
    require_node()
    _ensure_installed()
    done = subprocess.run(
        ["node", "wallet.mjs"],
        cwd=WALLET_DIR,
        input=json.dumps({"challenge": challenge, "domain": domain}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    answer: dict[str, Any] = json.loads(lines[-1]) if lines else {"error": done.stderr}
    if done.returncode != 0 or "error" in answer:
        raise RuntimeError(f"lcw/wallet.mjs failed: {answer.get('error')}")
    return str(answer["holder"]), answer["presentation"]
