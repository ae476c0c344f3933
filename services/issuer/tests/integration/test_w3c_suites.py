"""The W3C Verifiable Credentials test suites (``../shared/w3c-suites``) against this
issuer's VC-API, served over https on loopback by a did:key issuer instance.

Each suite runs once (bounded by ``SUITE_TIMEOUT_S``); every test must pass except those
listed in ``CANNOT_PASS`` with the reason (see docs/issuer.md § VC-API). The suites'
npm packages install on first use (``run.sh``); without node/npm the test is skipped, or
fails when ``CREDSTACK_REQUIRE_VERIFIERS`` is set.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from credstack.testing import REPO, Tokens
from tests.verifiers.digitalbazaar import require_node

from .. import serving

SUITES_DIR = REPO.parent / "shared" / "w3c-suites"
SUITE_TIMEOUT_S = 900

#: Tests that cannot pass, by suite, full title -> why (kept short and honest).
CANNOT_PASS: dict[str, dict[str, str]] = {
    "eddsa": {},
    "vc2": {
        "Advanced Concepts Local If the digest provided by the issuer does not match the "
        "digest computed for the retrieved resource, the conforming verifier implementation "
        "MUST produce an error.": "a negative test: the issuer would have to fetch "
        "https://www.w3.org/ns/credentials/v2 as w3.org serves it; it fetches nothing (and "
        "the bytes of its packaged copy differ from the served ones, so it cannot compare)",
    },
    "status": {},
}


@pytest.fixture
async def https_issuer(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """(base URL, issuer DID) of a did:key issuer served by uvicorn over https."""
    async with serving.https_issuer(
        database_url,
        kafka_bootstrap,
        tokens,
        tmp_path,
        did_method="key",
        vcapi_open_issuing=True,
    ) as served:
        yield served.base, served.app.state.issuer.profile.did


async def run_suite(suite: str, base: str, did: str) -> dict[str, Any]:
    """Run one suite with mocha's JSON reporter; its report."""
    process = await asyncio.create_subprocess_exec(
        str(SUITES_DIR / "run.sh"),
        suite,
        base,
        did,
        "--reporter",
        "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": ""},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), SUITE_TIMEOUT_S)
    text = stdout.decode()
    start = text.find('{\n  "stats"')
    assert start >= 0, f"{suite}: no mocha report\n{text[-3000:]}\n{stderr.decode()[-3000:]}"
    report: dict[str, Any] = json.loads(text[start:])
    return report


@pytest.mark.parametrize("suite", ["eddsa", "vc2", "status"])
async def test_the_w3c_suite_passes_against_the_vc_api(
    https_issuer: tuple[str, str], suite: str
) -> None:
    require_node()
    base, did = https_issuer
    report = await run_suite(suite, base, did)
    failed = {t["fullTitle"]: t["err"].get("message", "") for t in report["failures"]}
    unexpected = {title: why for title, why in failed.items() if title not in CANNOT_PASS[suite]}
    print(
        json.dumps(report["stats"]), *(f"FAIL {t}: {w[:300]}" for t, w in failed.items()), sep="\n"
    )
    assert report["stats"]["passes"] > 0
    assert unexpected == {}, json.dumps(unexpected, indent=1)[:20000]
