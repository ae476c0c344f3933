"""Run 1EdTech's OB 2.0 validator ``badgecheck`` (``badgecheck/run.py``) from Python tests.

badgecheck's pins (pyld 0.7, jsonschema 2.6, ...) clash with the workspace, so it lives in
its own virtualenv (``badgecheck/.venv``), created on first use from the package registry
(``pip install badgecheck==1.1.8`` then ``pycryptodome>=3.20`` without dependencies: its pinned
one predates Python 3), under a file lock. The OB 2.0 context is served from the reference
folder; only 127.0.0.1/localhost is fetched.

``badgecheck(url_or_json=..., email=...)`` or ``badgecheck(image=path, email=...)`` ->
badgecheck's report (``report["valid"]``, ``report["messages"]``, ``graph``).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "badgecheck"
VENV = HERE / ".venv"
PYTHON = VENV / "bin" / "python"
_MARKER = VENV / ".installed"
REFERENCE_DIR = Path(
    os.environ.get(
        "CREDSTACK_REFERENCE_DIR", Path(__file__).resolve().parents[3] / "shared" / "reference"
    )
)
OB2_CONTEXT = REFERENCE_DIR / "contexts" / "w3id.org" / "openbadges" / "v2.jsonld"


def _ensure_installed() -> None:
    if _MARKER.exists():
        return
    HERE.mkdir(exist_ok=True)
    with (HERE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _MARKER.exists():
                return
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
            pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            for extra in (
                ["-r", str(HERE / "requirements.txt")],
                ["--no-deps", "pycryptodome>=3.20"],
            ):
                completed = subprocess.run(
                    [*pip, *extra], capture_output=True, text=True, timeout=600, check=False
                )
                if completed.returncode != 0:
                    raise RuntimeError(f"installing badgecheck failed:\n{completed.stderr}")
            _MARKER.write_text("ok")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def badgecheck(
    *, url_or_json: str | None = None, image: Path | None = None, email: str | None = None
) -> dict[str, Any]:
    _ensure_installed()
    request: dict[str, Any] = {"context": str(OB2_CONTEXT), "email": email}
    if image is not None:
        request["file"] = str(image)
    else:
        request["input"] = url_or_json
    env = dict(os.environ)
    if trusted := env.get("SSL_CERT_FILE"):  # requests trusts certifi's CAs, not this
        env["REQUESTS_CA_BUNDLE"] = trusted  # (the journeys serve https with the dev CA)
    completed = subprocess.run(
        [str(PYTHON), str(HERE / "run.py")],
        input=json.dumps(request),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"badgecheck failed:\n{completed.stdout}\n{completed.stderr}")
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


if __name__ == "__main__":
    print(json.dumps(badgecheck(url_or_json=sys.argv[1]), indent=2))
