"""Run ``@digitalcredentials/verifier-core`` (``verifiercore/verify.mjs``) from Python tests:
the verifier Learner Credential Wallet and VerifierPlus use.

``verify_with_verifier_core(credential, documents)`` -> verifier-core's own result, e.g.
``{"log": [{"id": "valid_signature", "valid": True}, {"id": "expiration", "valid": True},
{"id": "revocation_status", "valid": True}, {"id": "registered_issuer", "valid": False,
"matchingIssuers": [], "uncheckedRegistries": []}], "additionalInformation": [...],
"unserved": []}``; a credential it refuses outright (bad signature, no proof, ...) has
``errors`` (``[{"name": "invalid_signature", "message": ...}]``) and no ``log``.
:func:`steps` gives the log by step id. No DID registry is configured, so
``registered_issuer`` is ``valid: False`` with nothing matched and nothing unchecked: our
issuers are in no DCC registry, which verifier-core reports as such, not as a failure.
``unserved`` lists the URLs it asked for that were not in ``documents`` or the reference
folder (they were answered 404).

``documents`` maps URL -> JSON document as for :mod:`tests.verifiers.digitalbazaar`: the
issuer's DID document under its DID, status list credentials under their URL. Contexts and
JSON Schemas come from the reference folder (or verifier-core's own bundled copies); nothing
is fetched from the network. :func:`verify_all_with_verifier_core` verifies several
credentials in one node process (one start-up, about a second, for all of them).

The npm packages are installed on first use (``npm ci`` from the committed lock file, under a
file lock). Without node/npm, or if npm cannot install them, the calling test is skipped
with the reason (fails instead if ``CREDSTACK_REQUIRE_VERIFIERS`` is set).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.npm import npm_ci_once
from tests.verifiers.digitalbazaar import require_node

__all__ = [
    "VERIFIER_CORE_DIR",
    "expected_log",
    "steps",
    "verify_all_with_verifier_core",
    "verify_presentation_with_verifier_core",
    "verify_with_verifier_core",
]

VERIFIER_CORE_DIR = Path(__file__).resolve().parent / "verifiercore"
_VERIFY_TIMEOUT_S = 180

Documents = Mapping[str, Mapping[str, Any]]


def _cannot_install(reason: str) -> None:
    if os.environ.get("CREDSTACK_REQUIRE_VERIFIERS"):
        pytest.fail(reason + " (CREDSTACK_REQUIRE_VERIFIERS is set)")
    pytest.skip(reason)


def _ensure_installed() -> None:
    require_node()
    try:
        npm_ci_once(VERIFIER_CORE_DIR)
    except RuntimeError as failed:
        _cannot_install(
            f"npm could not install @digitalcredentials/verifier-core: {str(failed)[-2000:]}"
        )


def _run(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    _ensure_installed()
    done = subprocess.run(
        ["node", "verify.mjs"],
        cwd=VERIFIER_CORE_DIR,
        input=json.dumps({"items": items}),
        capture_output=True,
        text=True,
        timeout=_VERIFY_TIMEOUT_S,
        check=False,
    )
    try:
        answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        results: list[dict[str, Any]] = answer["results"]
    except (IndexError, KeyError, json.JSONDecodeError):
        raise RuntimeError(
            f"verifiercore/verify.mjs gave no results (exit {done.returncode}):\n"
            f"stdout: {done.stdout}\nstderr: {done.stderr}"
        ) from None
    return results


def verify_all_with_verifier_core(
    credentials: Sequence[tuple[Mapping[str, Any], Documents]],
) -> list[dict[str, Any]]:
    """Verify each ``(credential, documents)`` in one node process; results in order."""
    return _run(
        [{"credential": credential, "documents": dict(docs)} for credential, docs in credentials]
    )


def verify_with_verifier_core(
    credential: Mapping[str, Any], documents: Documents | None = None
) -> dict[str, Any]:
    """verifier-core's ``verifyCredential`` result for ``credential`` (no DID registry)."""
    [result] = verify_all_with_verifier_core([(credential, documents or {})])
    return result


def verify_presentation_with_verifier_core(
    presentation: Mapping[str, Any],
    documents: Documents | None = None,
    *,
    challenge: str | None = None,
    unsigned: bool = False,
) -> dict[str, Any]:
    """verifier-core's ``verifyPresentation`` result: ``presentationResult`` (``signature``:
    ``valid`` / ``invalid`` / ``unsigned``) and one ``credentialResults`` entry per credential."""
    item: dict[str, Any] = {
        "presentation": presentation,
        "documents": dict(documents or {}),
        "unsignedPresentation": unsigned,
    }
    if challenge is not None:
        item["challenge"] = challenge
    [result] = _run([item])
    return result


def steps(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The result's log by step id (``valid_signature``, ``expiration``,
    ``revocation_status``, ``registered_issuer``); empty when verification was fatal."""
    return {entry["id"]: entry for entry in result.get("log", [])}


def expected_log(*, suspended: bool = False) -> list[dict[str, Any]]:
    """verifier-core's log for a credential of ours that it accepts: signature valid, within
    its validity window, issuer in no DCC registry (``registered_issuer`` false, nothing
    matched, nothing left unchecked). Our credentials name one status entry, on the
    ``suspension`` list (set while suspended and for good once revoked: see docs/issuer.md),
    so verifier-core logs ``suspension_status``; it is false when that bit is set."""
    return [
        {"id": "valid_signature", "valid": True},
        {"id": "suspension_status", "valid": not suspended},
        {"id": "expiration", "valid": True},
        {
            "id": "registered_issuer",
            "valid": False,
            "matchingIssuers": [],
            "uncheckedRegistries": [],
        },
    ]
