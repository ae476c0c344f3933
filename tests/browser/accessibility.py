"""axe-core's automated accessibility check, run inside a Playwright page.

axe-core (Deque's rules engine, the one browser extensions and CI tools use) comes from npm,
pinned in ``axe/package.json`` and its lock file, installed on first use with ``npm ci``
under a file lock, as ``tests/verifiers/dbvc`` installs its packages. Without node and npm
the calling test is skipped with the reason (or fails when ``CREDSTACK_REQUIRE_VERIFIERS``
is set, for CI).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.npm import npm_ci_once

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
_NPM_MISSING = "npm is needed to install axe-core for the accessibility check: install Node.js"
#: The impacts that fail a page (axe's scale: minor, moderate, serious, critical).
BLOCKING = ("serious", "critical")


def _install() -> None:
    npm_ci_once(AXE_DIR, needs=AXE_SCRIPT, timeout=300)


async def require_axe() -> None:
    """Install axe-core if need be; skip (or fail in strict CI) when npm is unavailable."""
    if shutil.which("npm") is None:
        if os.environ.get("CREDSTACK_REQUIRE_VERIFIERS"):
            pytest.fail(_NPM_MISSING + " (CREDSTACK_REQUIRE_VERIFIERS is set)")
        pytest.skip(_NPM_MISSING)
    await asyncio.to_thread(_install)


async def serious_violations(page: Any) -> list[str]:
    """The page's serious and critical axe violations, one readable line per element."""
    await require_axe()
    # Evaluated over the DevTools protocol, which the page's content security policy (no
    # inline or foreign script) does not govern, unlike an added <script> tag.
    await page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;true")
    results = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        f"{node['target']}: {node.get('failureSummary', '')}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]
