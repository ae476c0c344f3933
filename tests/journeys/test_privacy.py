"""A learner's privacy rights on the running platform, through the real broker: after their
first credential, one archive of everything every service holds on them; then erasure,
which each service applies from the bus, and the credential still verifies."""

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from credstack import devauth, devstack

from .conftest import journey_through


def _until(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.5)


def test_a_learner_gets_one_archive_then_erasure_reaches_every_service(
    stack: devstack.Stack,
) -> None:
    result = journey_through(stack).run()
    suffix = result.email.removeprefix("ada+").removesuffix("@example.org")
    token = devauth.mint(
        devauth.signing_key(Path(stack.data_dir)),
        role="learner",
        subject=f"learner-{suffix}",
        email=result.email,
        email_verified=True,
    )
    learner = {"Authorization": f"Bearer {token}"}
    enrolment = stack.url("enrolment")

    archive = httpx.get(f"{enrolment}/learners/me/archive", headers=learner, timeout=30)
    assert archive.status_code == 200, archive.text
    with zipfile.ZipFile(io.BytesIO(archive.content)) as packed:
        files = {n.removesuffix(".json"): json.loads(packed.read(n)) for n in packed.namelist()}
    assert set(files) == {"manifest", "enrolment", "assessment", "issuer", "notifier", "dashboard"}
    assert [c["id"] for c in files["issuer"]["credentials"]] == [result.credential_id]
    assert len(files["notifier"]["messages"]) >= len(result.messages)
    assert files["assessment"]["enrolments"][0]["enrolment_id"] == result.enrolment_id

    erased = httpx.post(f"{enrolment}/learners/me/erasure", headers=learner, timeout=30)
    assert erased.status_code == 200, erased.text

    def data_of(service: str) -> dict[str, Any]:
        found = httpx.get(f"{stack.url(service)}/learners/me/data", headers=learner, timeout=30)
        assert found.status_code == 200, found.text
        body: dict[str, Any] = found.json()
        return body

    _until("the issuer's erasure", lambda: data_of("issuer")["erased_at"] is not None)
    _until("the notifier's erasure", lambda: data_of("notifier")["contact"] is None)
    _until(
        "assessment's erasure",
        lambda: (
            data_of("assessment")["enrolments"][0]["lms_links"] == []
            and all(g["payload"] == {} for g in data_of("assessment")["enrolments"][0]["grades"])
        ),
    )
    for service in ("enrolment", "issuer", "notifier", "assessment", "dashboard"):
        assert result.email not in json.dumps(data_of(service)), service
    verdict = httpx.post(f"{stack.url('issuer')}/verify", json=result.credential, timeout=30)
    assert verdict.json()["verified"] is True, verdict.text
    again = httpx.post(f"{enrolment}/learners/me/erasure", headers=learner, timeout=30)
    assert again.json() == {**erased.json(), "repeated": True}
