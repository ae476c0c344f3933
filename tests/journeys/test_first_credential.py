"""One learner's journey through all four services, the real broker and PostgreSQL."""

import json
import threading
import time

import httpx

from credstack import devstack, engines
from credstack.demo import JOURNEY_MESSAGES
from tests.verifiers.digitalbazaar import require_node, verify_with_digitalbazaar

from .conftest import journey_through


def test_a_passing_grade_becomes_a_verifiable_open_badge(stack: devstack.Stack) -> None:
    result = journey_through(stack).run()

    credential = result.credential
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["credentialSubject"]["achievement"]["name"] == "Data Storytelling for Leaders"
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    did_document = httpx.get(f"{stack.url('issuer')}/.well-known/did.json").json()
    assert credential["issuer"]["id"] == did_document["id"]

    require_node()
    status_url = credential["credentialStatus"]["statusListCredential"]
    documents = {did_document["id"]: did_document, status_url: httpx.get(status_url).json()}
    verdict = verify_with_digitalbazaar(credential, documents)
    assert verdict["verified"] is True, verdict


def test_the_learner_hears_of_each_step_in_order_in_the_mail_sink(stack: devstack.Stack) -> None:
    result = journey_through(stack).run()

    subjects = [m["subject"] for m in result.messages]
    assert len(subjects) == len(JOURNEY_MESSAGES)
    for subject, expected in zip(subjects, JOURNEY_MESSAGES, strict=True):
        assert subject.startswith(expected), subjects
        assert subject.endswith("Data Storytelling for Leaders")
    assert len({m["message_id"] for m in result.messages}) == len(subjects)
    assert "AUD 1,295.00" in result.messages[1]["text"]
    assert f"/verify/{result.credential_id}" in result.messages[-1]["text"]


def test_a_trace_id_follows_a_request_through_kafka_to_the_consumers(stack: devstack.Stack) -> None:
    """The journey's requests carry one trace id: the events they cause are consumed under it."""
    result = journey_through(stack).run()

    for service, caused_by_the_journey in (
        ("enrolment", "OfferingScheduled.v1"),
        ("issuer", "MicroCredentialPublished.v1"),
    ):
        lines = (stack.data_dir / "logs" / f"{service}.log").read_text().splitlines()
        traced = [json.loads(line) for line in lines if result.trace_id in line]
        assert any(
            entry.get("event") == "event.consumed" and entry["type"].endswith(caused_by_the_journey)
            for entry in traced
        ), f"{service} consumed no {caused_by_the_journey} under trace {result.trace_id}"
    traceparent = f"00-{result.trace_id}-00f067aa0ba902b7-01"
    response = httpx.get(f"{stack.url('catalogue')}/healthz", headers={"traceparent": traceparent})
    assert response.headers["traceparent"].startswith(f"00-{result.trace_id}-")


def test_killing_a_service_mid_journey_still_ends_in_exactly_one_credential(
    stack: devstack.Stack,
) -> None:
    """Each service in turn is killed (SIGKILL) while the journey runs, then restarted."""
    for victim in devstack.SERVICES:
        journey = journey_through(stack)
        outcome: dict[str, object] = {}

        def run(journey=journey, outcome=outcome) -> None:  # type: ignore[no-untyped-def]
            outcome["result"] = journey.run()

        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(0.8)
        stack.processes[victim].kill()
        time.sleep(0.5)
        assert stack.supervise_once() == [victim]
        worker.join(timeout=120)
        assert "result" in outcome, f"the journey did not finish after {victim} was killed"
        engines.wait_for_port(stack.ports[victim])  # the journey may end before it is back
        result = outcome["result"]
        staff = journey._token("staff", "staff-check")
        found = httpx.get(
            f"{stack.url('issuer')}/credentials",
            params={"enrolment_id": result.enrolment_id},  # type: ignore[attr-defined]
            headers=staff,
        ).json()["items"]
        assert len(found) == 1, f"{victim}: {found}"


def test_the_reconciler_is_a_no_op_when_consistent_and_a_re_announcement_doubles_nothing(
    stack: devstack.Stack,
) -> None:
    from pathlib import Path

    from credstack import devauth
    from credstack.reconcile import reconcile

    result = journey_through(stack).run()
    token = devauth.mint(devauth.signing_key(Path(stack.data_dir)), role="staff")
    headers = {"Authorization": f"Bearer {token}"}
    urls = {s: stack.url(s) for s in devstack.SERVICES}

    deadline = time.monotonic() + 30
    report = reconcile(urls, headers, dry_run=True)
    while not report.consistent and time.monotonic() < deadline:  # the outboxes drain
        time.sleep(0.5)
        report = reconcile(urls, headers, dry_run=True)
    assert report.consistent, report.findings
    assert report.checked["released results"] >= 1

    announced = httpx.post(
        f"{urls['assessment']}/admin/decisions/{result.enrolment_id}/re-announce",
        headers=headers,
    )
    assert announced.status_code == 200, announced.text
    assert [t.rsplit(".", 2)[-2] for t in announced.json()["events"]] == ["AssessmentPassed"]

    def live() -> list[dict[str, object]]:
        found = httpx.get(
            f"{urls['issuer']}/credentials",
            params={"enrolment_id": result.enrolment_id},
            headers=headers,
        ).json()["items"]
        return [c for c in found if c["status"] == "active"]

    time.sleep(3)  # the re-announcement crosses the broker and is applied
    assert [c["id"] for c in live()] == [result.credential_id]
    repaired = reconcile(urls, headers)
    assert repaired.consistent and repaired.repaired == 0, repaired.findings


def test_a_credential_revoked_on_purpose_by_staff_is_not_reported_or_reissued(
    stack: devstack.Stack,
) -> None:
    """The pass still stands, but staff revoked its credential: settled, not a finding on
    every run, and no repair issues it again."""
    from pathlib import Path

    from credstack import devauth
    from credstack.reconcile import reconcile

    result = journey_through(stack).run()
    token = devauth.mint(devauth.signing_key(Path(stack.data_dir)), role="staff")
    headers = {"Authorization": f"Bearer {token}"}
    urls = {s: stack.url(s) for s in devstack.SERVICES}
    revoked = httpx.post(
        f"{urls['issuer']}/credentials/{result.credential_id}/revoke",
        headers=headers,
        json={"reason": "issued in error: the learner asked for it to be withdrawn"},
    )
    assert revoked.status_code == 200, revoked.text

    deadline = time.monotonic() + 30
    report = reconcile(urls, headers, dry_run=True)
    while not report.consistent and time.monotonic() < deadline:  # the outboxes drain
        time.sleep(0.5)
        report = reconcile(urls, headers, dry_run=True)
    assert report.consistent, report.findings
    assert report.checked["revoked by staff"] >= 1
    repaired = reconcile(urls, headers)
    assert repaired.consistent and repaired.repaired == 0, repaired.findings
    time.sleep(2)
    found = httpx.get(
        f"{urls['issuer']}/credentials",
        params={"enrolment_id": result.enrolment_id},
        headers=headers,
    ).json()["items"]
    assert [c["status"] for c in found] == ["revoked"]
