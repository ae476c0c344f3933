"""The npm packages a test harness runs (verifiers, wallets, axe-core), installed once.

``npm ci`` from the folder's committed lock file, under a file lock so parallel test
processes do not race; ``node_modules/.package-lock.json`` is written last by npm, so its
presence says a previous install finished."""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path


def npm_ci_once(folder: Path, *, needs: Path | None = None, timeout: float = 600) -> None:
    """Install ``folder``'s locked packages unless done (and ``needs`` exists); RuntimeError
    with npm's output when it fails."""
    marker = folder / "node_modules" / ".package-lock.json"

    def installed() -> bool:
        return marker.exists() and (needs is None or needs.exists())

    if installed():
        return
    with (folder / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if installed():  # another process installed them meanwhile
                return
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if done.returncode != 0:
        raise RuntimeError(
            f"npm ci failed in {folder} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
