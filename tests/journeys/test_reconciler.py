"""The reconciler across the whole stack: an offering a consumer never learnt of, and a
payment whose webhook never arrived, each found, repaired once, then nothing to do."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from credstack import devauth, devstack
from credstack.db import libpq_url
from credstack.reconcile import Report, reconcile

from .conftest import journey_through


def sql(stack: devstack.Stack, statement: str, *args: Any) -> list[Any]:
    """As the fault cases do: the database behind a service's back (several statements
    without arguments or results, or one with)."""

    async def run() -> list[Any]:
        connection = await asyncpg.connect(libpq_url(stack.database_url or ""))
        try:
            if not args and ";" in statement.strip().rstrip(";"):
                await connection.execute(statement)
                return []
            return list(await connection.fetch(statement, *args))
        finally:
            await connection.close()

    return asyncio.run(run())


def operator(stack: devstack.Stack) -> tuple[dict[str, str], dict[str, str]]:
    token = devauth.mint(devauth.signing_key(Path(stack.data_dir)), role="staff")
    urls = {s: stack.url(s) for s in devstack.SERVICES}
    return urls, {"Authorization": f"Bearer {token}"}


def settled(urls: dict[str, str], headers: dict[str, str]) -> Report:
    """A dry run once the outboxes and consumers have caught up (or after 30 s)."""
    deadline = time.monotonic() + 30
    report = reconcile(urls, headers, dry_run=True)
    while not report.consistent and time.monotonic() < deadline:
        time.sleep(0.5)
        report = reconcile(urls, headers, dry_run=True)
    return report


def test_an_offering_enrolment_never_learnt_of_is_re_announced_once_then_all_is_quiet(
    stack: devstack.Stack,
) -> None:
    journey = journey_through(stack)
    _, offering, _ = journey._offering()
    journey._await_availability(offering["id"])
    urls, headers = operator(stack)
    assert settled(urls, headers).consistent
    availability = f"{urls['enrolment']}/offerings/{offering['id']}/availability"
    before = httpx.get(availability).json()

    lost = sql(
        stack, "DELETE FROM enrolment.offering WHERE id = $1 RETURNING id", UUID(offering["id"])
    )
    assert lost and httpx.get(availability).status_code == 404

    found = reconcile(urls, headers, dry_run=True)
    [finding] = found.findings
    assert (finding.service, finding.subject) == ("catalogue→enrolment", offering["id"])
    assert finding.problem == "scheduled offering unknown to enrolment"
    assert found.checked["offerings"] >= 1 and found.repaired == 0

    repaired = reconcile(urls, headers)
    assert repaired.repaired == 1
    assert repaired.findings[0].repair == "re-announced credstack.catalogue.OfferingScheduled.v1"
    deadline = time.monotonic() + 30
    while httpx.get(availability).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.3)
    after = httpx.get(availability).json()
    assert after == before

    again = reconcile(urls, headers)
    assert again.consistent and again.repaired == 0, again.findings


def test_a_cancellation_enrolment_never_learnt_of_is_re_announced_once(
    stack: devstack.Stack,
) -> None:
    journey = journey_through(stack)
    _, offering, _ = journey._offering()
    journey._await_availability(offering["id"])
    urls, headers = operator(stack)
    availability = f"{urls['enrolment']}/offerings/{offering['id']}/availability"
    cancelled = httpx.post(
        f"{urls['catalogue']}/offerings/{offering['id']}/cancel",
        json={"reason": "No convenor"},
        headers=headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    deadline = time.monotonic() + 30
    while httpx.get(availability).json()["status"] != "cancelled":
        assert time.monotonic() < deadline, "enrolment never learnt of the cancellation"
        time.sleep(0.3)
    assert settled(urls, headers).consistent

    sql(
        stack,
        "UPDATE enrolment.offering SET status = 'scheduled' WHERE id = $1",
        UUID(offering["id"]),
    )

    [finding] = reconcile(urls, headers, dry_run=True).findings
    assert (finding.subject, finding.problem) == (
        offering["id"],
        "cancelled offering unknown to enrolment",
    )
    repaired = reconcile(urls, headers)
    assert repaired.findings[0].repair == (
        "re-announced credstack.catalogue.OfferingScheduled.v1, "
        "credstack.catalogue.OfferingCancelled.v1"
    )
    deadline = time.monotonic() + 30
    while httpx.get(availability).json()["status"] != "cancelled":
        assert time.monotonic() < deadline, "the re-announced cancellation was not applied"
        time.sleep(0.3)
    again = reconcile(urls, headers)
    assert again.consistent and again.repaired == 0, again.findings


def test_a_payment_whose_webhook_was_lost_confirms_the_enrolment_exactly_once(
    stack: devstack.Stack,
) -> None:
    journey = journey_through(stack)
    _, offering, _ = journey._offering()
    journey._await_availability(offering["id"])
    urls, headers = operator(stack)
    enrolment = urls["enrolment"]
    suffix = uuid4().hex[:8]
    learner = journey._token(
        "learner", f"learner-{suffix}", email=f"ada+{suffix}@example.org", email_verified=True
    )
    journey._call(
        "PUT", f"{enrolment}/learners/me", headers=learner, json={"name_on_credential": "Ada"}
    )
    declaration = journey._call("GET", f"{enrolment}/academic-integrity/declaration")
    journey._call(
        "POST",
        f"{enrolment}/learners/me/integrity-declaration",
        headers=learner,
        json={"version": declaration["version"]},
    )
    enrolled = journey._call(
        "POST",
        f"{enrolment}/enrolments",
        headers={**learner, "Idempotency-Key": f"lost-webhook-{suffix}"},
        json={"offering_id": offering["id"]},
    )
    checkout = journey._call(
        "POST", f"{enrolment}/enrolments/{enrolled['id']}/checkout", headers=learner
    )
    # The provider's webhooks about this enrolment are marked delivered and never sent.
    sql(
        stack,
        f"""CREATE FUNCTION enrolment.fault_lost_webhook() RETURNS trigger AS $$
        BEGIN
          IF NEW.payload::text LIKE '%{enrolled["id"]}%' THEN NEW.delivered_at := now(); END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER fault_lost_webhook BEFORE INSERT ON enrolment.local_webhook
          FOR EACH ROW EXECUTE FUNCTION enrolment.fault_lost_webhook();""",
    )
    try:
        journey._call(
            "POST",
            f"{checkout['payment']['checkout_url']}/pay",
            headers={"Accept": "application/json"},
        )
    finally:
        sql(stack, "DROP TRIGGER fault_lost_webhook ON enrolment.local_webhook")
        sql(stack, "DROP FUNCTION enrolment.fault_lost_webhook()")
    time.sleep(2)  # longer than the provider's delivery loop takes

    def status() -> str:
        view = httpx.get(f"{enrolment}/enrolments/{enrolled['id']}", headers=headers).json()
        return str(view["status"])

    assert status() == "pending_payment"
    found = reconcile(urls, headers, dry_run=True)
    [finding] = [f for f in found.findings if f.subject == enrolled["id"]]
    assert finding.service == "payment provider→enrolment"
    assert finding.problem == (
        "pending_payment, payment unpaid, but the provider's checkout says confirmed, payment paid"
    )
    assert status() == "pending_payment"

    repaired = reconcile(urls, headers)
    assert [f.repair for f in repaired.findings if f.subject == enrolled["id"]] == [
        "applied: confirmed, payment paid"
    ]
    assert status() == "confirmed"
    confirmations = sql(
        stack,
        "SELECT count(*) FROM enrolment.outbox WHERE payload->>'type' LIKE '%EnrolmentConfirmed%'"
        " AND key = $1",
        enrolled["id"],
    )
    assert confirmations[0][0] == 1
    assert settled(urls, headers).consistent
    again = reconcile(urls, headers)
    assert again.consistent and again.repaired == 0, again.findings
