"""The reconciler: the backstop for whatever the event bus loses.

It compares each producer's records with its consumers' through the services' own HTTP
APIs (never another service's tables) and repairs by asking the producer to announce the
current state again (new event ids, the same decision sequence, so consumers stay
idempotent). With nothing out of step it changes nothing. `credstack reconcile`; the dev
stack runs it on a timer.

Checked:
- every released pass has exactly one live micro-credential (none: re-announce), unless
  staff revoked it on purpose (its reason is not the issuer's "Result withdrawn: …"): that
  is counted under "revoked by staff", not reported;
- every released certificate of attendance has a live attendance certificate;
- every failed or withdrawn result has no live credential of either kind (one: re-announce
  the withdrawal, which revokes);
- every confirmed enrolment is known to assessment and the issuer (unknown: the enrolment
  service re-announces its EnrolmentConfirmed);
- every published micro-credential version, stack and scheduled offering is known to the
  consumers that keep it (unknown: the catalogue re-announces it; `reconcile_catalogue`);
- every checkout started in the last 14 days agrees with the payment provider (a lost
  webhook: the enrolment service applies what the provider says, as the webhook would
  have; paid here but unpaid there: reported for staff);
- every service's outbox has nothing left unsent (reported; the relay sends it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

LIVE = {"active", "suspended"}
KIND_OF_OUTCOME = {"passed": "micro-credential", "attendance_only": "attendance"}


@dataclass(frozen=True)
class Finding:
    service: str
    subject: str
    problem: str
    repair: str | None = None
    dry_run_repair: str = "would re-announce"
    """What a run without `--dry-run` would do about it."""


@dataclass
class Report:
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    repaired: int = 0

    @property
    def consistent(self) -> bool:
        return not self.findings


def pages(http: httpx.Client, url: str, headers: dict[str, str], **params: Any) -> Iterator[Any]:
    cursor = None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        response = http.get(url, params=query, headers=headers)
        response.raise_for_status()
        page = response.json()
        yield from page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


WITHDRAWN_REASON = "Result withdrawn:"
"""How the issuer words the revocation that follows a ResultWithdrawn."""


def _revoked_by_staff(credentials: list[dict[str, Any]], kind: str) -> bool:
    """A credential of `kind` revoked (or suspended) on purpose by staff, not because the
    result was withdrawn: the decision stands but staff chose otherwise, which is settled,
    not something to repair or report on every run."""
    return any(
        c["kind"] == kind
        and c["status"] == "revoked"
        and not (c.get("status_reason") or "").startswith(WITHDRAWN_REASON)
        for c in credentials
    )


def reconcile(
    urls: dict[str, str],
    headers: dict[str, str],
    *,
    dry_run: bool = False,
    payments: bool = True,
    http: httpx.Client | None = None,
) -> Report:
    """Compare and (unless `dry_run`) repair; returns what was found and done."""
    from credstack import reconcile_catalogue  # it builds on this module's Report

    client = http or httpx.Client(timeout=30)
    report = Report()
    try:
        _decisions(client, urls, headers, report, dry_run=dry_run)
        if "enrolment" in urls:
            _enrolments(client, urls, headers, report, dry_run=dry_run)
        if "catalogue" in urls:
            reconcile_catalogue.check(client, urls, headers, report, dry_run=dry_run)
        if payments and "enrolment" in urls:
            _payments(client, urls["enrolment"], headers, report, dry_run=dry_run)
        for service, url in urls.items():
            response = client.get(f"{url}/admin/outbox", headers=headers)
            if response.status_code != 200:
                report.findings.append(
                    Finding(service, "outbox", f"unreadable: HTTP {response.status_code}")
                )
                continue
            state = response.json()
            report.checked[f"{service} outbox"] = 1
            if state["pending"]:
                report.findings.append(
                    Finding(
                        service,
                        "outbox",
                        f"{state['pending']} event(s) unsent since {state['oldest_pending_at']}",
                    )
                )
    finally:
        if http is None:
            client.close()
    return report


def _decisions(
    http: httpx.Client,
    urls: dict[str, str],
    headers: dict[str, str],
    report: Report,
    *,
    dry_run: bool,
) -> None:
    assessment, issuer = urls["assessment"], urls["issuer"]
    checked = 0
    for decision in pages(http, f"{assessment}/admin/decisions", headers):
        checked += 1
        enrolment = decision["enrolment_id"]
        credentials = list(pages(http, f"{issuer}/credentials", headers, enrolment_id=enrolment))
        live = [c for c in credentials if c["status"] in LIVE]
        outcome = decision["released_outcome"]
        wanted = KIND_OF_OUTCOME.get(outcome)
        problems = []
        if wanted is not None:
            count = sum(1 for c in live if c["kind"] == wanted)
            if count == 0 and _revoked_by_staff(credentials, wanted):
                report.checked["revoked by staff"] = report.checked.get("revoked by staff", 0) + 1
            elif count == 0:
                problems.append(
                    f"{outcome} (sequence {decision['sequence']}) without a live {wanted}"
                )
            elif count > 1:
                report.findings.append(
                    Finding("issuer", enrolment, f"{count} live {wanted} credentials", None)
                )
        unwanted = [
            c for c in live if c["kind"] in KIND_OF_OUTCOME.values() and c["kind"] != wanted
        ]
        if outcome == "attendance_only":
            unwanted = [c for c in unwanted if c["kind"] != "attendance"]
        if outcome == "passed":
            unwanted = [c for c in unwanted if c["kind"] != "attendance"]  # a pass keeps it
        if unwanted:
            problems.append(
                f"{outcome} (sequence {decision['sequence']}) but live "
                + ", ".join(sorted({c["kind"] for c in unwanted}))
            )
        if not problems:
            continue
        repair = None
        if not dry_run:
            response = http.post(
                f"{assessment}/admin/decisions/{enrolment}/re-announce", headers=headers
            )
            response.raise_for_status()
            repair = "re-announced " + ", ".join(response.json()["events"])
            report.repaired += 1
        report.findings.append(Finding("assessment→issuer", enrolment, "; ".join(problems), repair))
    report.checked["released results"] = checked


def _enrolments(
    http: httpx.Client,
    urls: dict[str, str],
    headers: dict[str, str],
    report: Report,
    *,
    dry_run: bool,
) -> None:
    enrolment, assessment, issuer = urls["enrolment"], urls["assessment"], urls["issuer"]
    checked = 0
    for item in pages(http, f"{enrolment}/admin/confirmed-enrolments", headers):
        checked += 1
        enrolment_id = item["enrolment_id"]
        unknown_to = []
        for name, url in (("assessment", assessment), ("issuer", issuer)):
            known = http.get(f"{url}/admin/enrolments/{enrolment_id}", headers=headers)
            known.raise_for_status()
            if not known.json()["known"]:
                unknown_to.append(name)
        if not unknown_to:
            continue
        repair = None
        if not dry_run:
            response = http.post(
                f"{enrolment}/admin/enrolments/{enrolment_id}/re-announce", headers=headers
            )
            response.raise_for_status()
            repair = "re-announced " + ", ".join(response.json()["events"])
            report.repaired += 1
        report.findings.append(
            Finding(
                "enrolment→" + "+".join(unknown_to),
                enrolment_id,
                "confirmed enrolment unknown to " + " and ".join(unknown_to),
                repair,
            )
        )
    report.checked["confirmed enrolments"] = checked


def _payments(
    http: httpx.Client, enrolment: str, headers: dict[str, str], report: Report, *, dry_run: bool
) -> None:
    """The enrolment service compares its started checkouts with the payment provider and
    (unless `dry_run`) applies what lost webhooks would have; reported here."""
    response = http.post(
        f"{enrolment}/admin/payments/reconcile",
        params={"dry_run": str(dry_run).lower()},
        headers=headers,
    )
    response.raise_for_status()
    result = response.json()
    report.checked["checkouts"] = result["checked"]
    for repair in result["repairs"]:
        report.findings.append(
            Finding(
                "payment provider→enrolment",
                repair["enrolment_id"],
                f"{repair['before']}, but the provider's checkout says {repair['after']}",
                None if dry_run else f"applied: {repair['after']}",
                dry_run_repair="would apply it",
            )
        )
    report.repaired += 0 if dry_run else len(result["repairs"])
    for found in result["disagreements"]:
        report.findings.append(
            Finding(
                "enrolment→payment provider",
                found["enrolment_id"],
                f"{found['here']} here, but the provider says {found['provider']}",
                dry_run_repair="reported for staff",
            )
        )
    for enrolment_id in result["unreachable"]:
        report.findings.append(
            Finding(
                "payment provider",
                enrolment_id,
                "the provider could not be asked about its checkout",
                dry_run_repair="reported",
            )
        )
