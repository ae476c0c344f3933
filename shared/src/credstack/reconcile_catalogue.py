"""The reconciler's catalogue checks: every published item known to each consumer that
keeps it, asked through the consumers' own APIs.

- every micro-credential version ever published is known to enrolment, assessment (its
  pass rule), the issuer (the achievement) and the notifier;
- every published stack to the issuer and the notifier;
- every scheduled offering to enrolment (its public availability), assessment, the
  notifier and the dashboard; every cancelled one to enrolment as cancelled.

Unknown to any of them: the catalogue announces the item again (new event id, the same
content; an offering with its current dates and capacity, and its cancellation).
Consumers keep versions and offerings by id, so a consumer that already knew it changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from credstack.reconcile import Finding, Report, pages

VERSION_CONSUMERS = ("enrolment", "assessment", "issuer", "notifier")
STACK_CONSUMERS = ("issuer", "notifier")
OFFERING_CONSUMERS = ("enrolment", "assessment", "notifier", "dashboard")
CANCELLATION_CONSUMERS = ("enrolment",)
"""Who must know that an offering was cancelled (enrolment cancels its enrolments)."""


@dataclass(frozen=True)
class _Consumers:
    http: httpx.Client
    urls: dict[str, str]
    headers: dict[str, str]

    def present(self, names: tuple[str, ...]) -> list[str]:
        return [name for name in names if name in self.urls]

    def knows(self, name: str, path: str) -> bool:
        """A consumer's `GET /admin/...` answer: `{"known": ...}`."""
        response = self.http.get(f"{self.urls[name]}{path}", headers=self.headers)
        response.raise_for_status()
        return bool(response.json()["known"])

    def knows_offering(self, name: str, offering_id: str, status: str) -> bool:
        """Whether the consumer knows the offering; enrolment (through its public
        availability), also whether it knows it is cancelled."""
        if name != "enrolment":
            return self.knows(name, f"/admin/offerings/{offering_id}")
        response = self.http.get(f"{self.urls[name]}/offerings/{offering_id}/availability")
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return status != "cancelled" or response.json()["status"] == "cancelled"


def check(
    http: httpx.Client,
    urls: dict[str, str],
    headers: dict[str, str],
    report: Report,
    *,
    dry_run: bool,
) -> None:
    catalogue = urls["catalogue"]
    consumers = _Consumers(http, urls, headers)

    def settle(what: str, subject: str, path: str, unknown_to: list[str]) -> None:
        """Report an item some consumers do not know; unless `dry_run`, re-announce it."""
        if not unknown_to:
            return
        repair = None
        if not dry_run:
            response = http.post(f"{catalogue}{path}/re-announce", headers=headers)
            response.raise_for_status()
            repair = "re-announced " + ", ".join(response.json()["events"])
            report.repaired += 1
        report.findings.append(
            Finding(
                "catalogue→" + "+".join(unknown_to),
                subject,
                f"{what} unknown to " + " and ".join(unknown_to),
                repair,
            )
        )

    def listed(what: str, path: str) -> list[dict[str, str]]:
        found = list(pages(http, f"{catalogue}{path}", headers))
        report.checked[what] = len(found)
        return found

    for v in listed("published versions", "/admin/published-micro-credentials"):
        path = f"/admin/micro-credentials/{v['micro_credential_id']}/versions/{v['version']}"
        unknown = [n for n in consumers.present(VERSION_CONSUMERS) if not consumers.knows(n, path)]
        settle("published version", f"{v['code']} version {v['version']}", path, unknown)
    for s in listed("published stacks", "/admin/published-stacks"):
        known = f"/admin/stacks/{s['stack_id']}/versions/{s['version']}"
        unknown = [n for n in consumers.present(STACK_CONSUMERS) if not consumers.knows(n, known)]
        settle("published stack", f"stack {s['code']}", f"/admin/stacks/{s['stack_id']}", unknown)
    for o in listed("offerings", "/admin/offerings"):
        offering, status = o["offering_id"], o["status"]
        unknown = [
            n
            for n in consumers.present(
                OFFERING_CONSUMERS if status == "scheduled" else CANCELLATION_CONSUMERS
            )
            if not consumers.knows_offering(n, offering, status)
        ]
        settle(f"{status} offering", offering, f"/admin/offerings/{offering}", unknown)
