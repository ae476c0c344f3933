"""One learner's journey through the running platform, over HTTP only.

Staff propose a micro-credential, an approver approves and publishes it, staff schedule
an offering; a learner accepts the academic-integrity declaration, enrols and pays at the
dev stack's local checkout, whose Stripe-format webhook says the fee is paid; the
LMS posts a passing grade; the issuer signs the Open Badge; the notifier's messages to the
learner arrive in the dev stack's mail sink, in order. Used by `credstack demo` and by the
cross-service tests.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
from joserfc.jwk import ECKey

from credstack import devauth


class JourneyFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class JourneyResult:
    enrolment_id: str
    credential_id: str
    credential_url: str
    credential: dict[str, Any]
    grade_to_credential_seconds: float
    trace_id: str
    email: str
    messages: list[dict[str, Any]]
    """The learner's messages in the notifier's mail sink, oldest first."""


#: The messages the journey causes, in the order the learner receives them.
JOURNEY_MESSAGES = (
    "We received your enrolment",
    "Receipt",
    "You are enrolled",
    "You passed",
    "Your micro-credential",
)


class Journey:
    def __init__(
        self,
        *,
        urls: dict[str, str],
        signing_key: ECKey,
        say: Callable[[str], None] = lambda _: None,
        timeout: float = 60.0,
    ) -> None:
        self.urls = urls
        self.key = signing_key
        self.say = say
        self.timeout = timeout
        self._burst_lms: dict[str, str] = {}
        self.http = httpx.Client(timeout=10.0)
        self.trace_id = secrets.token_hex(16)
        """Every request of the journey carries this W3C trace id (`traceparent`)."""

    def _token(self, role: str, subject: str, **claims: Any) -> dict[str, str]:
        token = devauth.mint(self.key, role=role, subject=subject, **claims)
        return {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        """One request, retried while the service is unreachable (e.g. restarting), answers
        503 (its database or broker is: nothing was changed) or 429 (the client is over a
        rate limit), after its Retry-After (503: at most 1 s here), as a polite client does.

        Every call of the journey may be repeated safely: reads, writes with an
        Idempotency-Key or deduplicated by the service, and lifecycle transitions, which
        are no-ops when already done.
        """
        traceparent = f"00-{self.trace_id}-{secrets.token_hex(8)}-01"
        headers = {"traceparent": traceparent, **kwargs.pop("headers", {})}
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                response = self.http.request(method, url, headers=headers, **kwargs)
                if response.status_code not in (429, 503):
                    break
                wait = float(response.headers.get("Retry-After", "1"))
                if response.status_code == 503:
                    wait = min(1.0, wait)
                if time.monotonic() + wait > deadline:
                    break
                time.sleep(wait)
                continue
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise JourneyFailed(f"{method} {url}: the service stayed unreachable")
            time.sleep(0.3)
        if response.status_code >= 400:
            raise JourneyFailed(f"{method} {url} → {response.status_code}: {response.text}")
        return response.json()

    def _until(self, what: str, attempt: Callable[[], Any]) -> Any:
        """Retry `attempt` until it returns a value: the platform is eventually consistent.
        The pause grows from 0.2 s to 2 s, so a long wait stays within the rate limits."""
        deadline = time.monotonic() + self.timeout
        pause = 0.2
        while True:
            try:
                if (value := attempt()) is not None:
                    return value
            except (JourneyFailed, httpx.TransportError) as error:
                if time.monotonic() > deadline:
                    raise JourneyFailed(f"gave up waiting for {what}: {error}") from error
            if time.monotonic() > deadline:
                raise JourneyFailed(f"gave up waiting for {what}")
            time.sleep(pause)
            pause = min(2.0, pause * 1.5)

    def _offering(self, *, fee_cents: int = 129500, capacity: int = 30) -> tuple[str, Any, Any]:
        """Propose, approve and publish a micro-credential, schedule an offering and register
        an LMS for it: (code, offering, the LMS's headers)."""
        catalogue, assessment = self.urls["catalogue"], self.urls["assessment"]
        staff = self._token("staff", "staff-demo")
        approver = self._token("approver", "approver-demo")
        code = f"MC-DEMO-{uuid4().hex[:6].upper()}"

        item = self._call(
            "POST",
            f"{catalogue}/micro-credentials",
            headers={**staff, "Idempotency-Key": f"demo-propose-{code}"},
            json={
                "code": code,
                "title": "Data Storytelling for Leaders",
                "summary": "Turn analysis into decisions.",
                "description": "Assessed graduate-level micro-credential in communicating data.",
                "learning_outcomes": [
                    {"id": "LO1", "description": "Frame a decision as a data question"},
                    {"id": "LO2", "description": "Present evidence to a non-specialist audience"},
                ],
                "assessment_description": "A recorded presentation and a 1,500-word brief.",
                "assessment_word_equivalent": 1500,
                "credit_points": "3.125",
                "notional_hours": "65",
                "field_of_study": "Management and Commerce",
                "category": "professional-development",
                "delivery_modes": ["on-campus", "synchronous-online"],
                "online_delivery_approval": "AQAC-2026-17",
                "strategic_plan_alignment": "Lifelong learning for the professions.",
                "convenor": "Dr Grace Hopper",
                "fee_cents": fee_cents,
            },
        )
        self.say(f"1. staff proposed {code} (draft, version {item['version']})")
        for action, who in (("submit", staff), ("approve", approver), ("publish", approver)):
            self._call(
                "POST",
                f"{catalogue}/micro-credentials/{code}/{action}",
                headers=who,
            )
        self.say("2. an approver approved and published it → MicroCredentialPublished")
        now = datetime.now(UTC)
        offering = self._call(
            "POST",
            f"{catalogue}/micro-credentials/{code}/offerings",
            headers={**staff, "Idempotency-Key": f"demo-offering-{code}"},
            json={
                "starts_on": (date.today() + timedelta(days=14)).isoformat(),
                "ends_on": (date.today() + timedelta(days=56)).isoformat(),
                "enrolment_opens_at": (now - timedelta(hours=1)).isoformat(),
                "enrolment_closes_at": (now + timedelta(days=10)).isoformat(),
                "capacity": capacity,
                "delivery_mode": "synchronous-online",
            },
        )
        self.say(f"3. staff scheduled offering {offering['id']} → OfferingScheduled")
        lms_client = f"lms-demo-{code.lower()}"
        self._call(
            "PUT",
            f"{assessment}/lms-clients/{lms_client}",
            headers=staff,
            json={"kind": "native", "name": "Demo LMS", "offering_ids": [offering["id"]]},
        )
        lms = self._token("lms", "lms-moodle-demo", client_id=lms_client)
        return code, offering, lms

    def _await_availability(self, offering_id: str) -> None:
        """Wait, as the website does before it offers "Enrol", until the enrolment service
        has learnt of the offering from the catalogue's event (its availability is public
        and not rate-limited, unlike enrolling)."""
        self._until(
            "the enrolment service to learn of the offering",
            lambda: self._call(
                "GET", f"{self.urls['enrolment']}/offerings/{offering_id}/availability"
            ),
        )

    def enrol_many(self, count: int, *, concurrency: int = 8) -> list[str]:
        """`count` learners enrol in one new free offering (confirmed at once, nothing to
        pay); their enrolment ids, once assessment knows each is confirmed. For bursts."""
        from concurrent.futures import ThreadPoolExecutor

        enrolment = self.urls["enrolment"]
        _, offering, self._burst_lms = self._offering(fee_cents=0, capacity=count)
        self._await_availability(offering["id"])

        def one(_: int) -> str:
            learner = self._token(
                "learner",
                f"learner-{uuid4().hex[:12]}",
                email="ada@example.org",
                email_verified=True,
            )
            self._call(
                "PUT",
                f"{enrolment}/learners/me",
                headers=learner,
                json={"name_on_credential": "Ada"},
            )
            declaration = self._call("GET", f"{enrolment}/academic-integrity/declaration")
            self._call(
                "POST",
                f"{enrolment}/learners/me/integrity-declaration",
                headers=learner,
                json={"version": declaration["version"]},
            )
            enrolled = self._call(
                "POST",
                f"{enrolment}/enrolments",
                headers={**learner, "Idempotency-Key": f"burst-{offering['id']}"},
                json={"offering_id": offering["id"]},
            )
            return str(enrolled["id"])

        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, range(count)))

    def grade_many(self, enrolment_ids: list[str], *, concurrency: int = 8) -> None:
        """A passing grade for each of `enrolment_ids` (from `enrol_many`), `concurrency`
        at a time; each retried until assessment knows the enrolment is confirmed."""
        from concurrent.futures import ThreadPoolExecutor

        def one(enrolment_id: str) -> None:
            self._until(
                "assessment to accept the grade",
                lambda: self._call(
                    "POST",
                    f"{self.urls['assessment']}/grades",
                    headers=self._burst_lms,
                    json={
                        "enrolment_id": enrolment_id,
                        "score": 86,
                        "outcomes": [
                            {"outcome_id": "LO1", "demonstrated": True},
                            {"outcome_id": "LO2", "demonstrated": True},
                        ],
                    },
                ),
            )

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, enrolment_ids))

    def run(self) -> JourneyResult:
        enrolment = self.urls["enrolment"]
        assessment, issuer = self.urls["assessment"], self.urls["issuer"]
        staff = self._token("staff", "staff-demo")
        suffix = uuid4().hex[:8]
        email = f"ada+{suffix}@example.org"
        learner = self._token("learner", f"learner-{suffix}", email=email, email_verified=True)
        _, offering, lms = self._offering()

        self._call(
            "PUT",
            f"{enrolment}/learners/me",
            headers=learner,
            json={"name_on_credential": "Ada Lovelace"},
        )
        declaration = self._call("GET", f"{enrolment}/academic-integrity/declaration")
        self._call(
            "POST",
            f"{enrolment}/learners/me/integrity-declaration",
            headers=learner,
            json={"version": declaration["version"]},
        )

        self._await_availability(offering["id"])
        enrolled = self._call(
            "POST",
            f"{enrolment}/enrolments",
            headers={**learner, "Idempotency-Key": f"demo-{offering['id']}"},
            json={"offering_id": offering["id"]},
        )
        self.say(f"4. the learner enrolled: {enrolled['id']} ({enrolled['status']})")
        checkout = self._call(
            "POST", f"{enrolment}/enrolments/{enrolled['id']}/checkout", headers=learner
        )
        self._call(
            "POST",
            f"{checkout['payment']['checkout_url']}/pay",
            headers={"Accept": "application/json"},
        )

        def confirmed() -> Any:
            view = self._call("GET", f"{enrolment}/enrolments/{enrolled['id']}", headers=learner)
            return view if view["status"] == "confirmed" else None

        self._until("the enrolment to be confirmed", confirmed)
        self.say("5. the learner paid at the checkout; its webhook → EnrolmentConfirmed")
        graded_at = time.monotonic()
        self._call(
            "POST",
            f"{assessment}/grades",
            headers=lms,
            json={
                "enrolment_id": enrolled["id"],
                "score": 86,
                "outcomes": [
                    {"outcome_id": "LO1", "demonstrated": True},
                    {"outcome_id": "LO2", "demonstrated": True},
                ],
            },
        )
        self.say("6. the LMS posted a grade of 86% (pass mark 70%) → AssessmentPassed")

        def issued() -> Any:
            found = self._call(
                "GET",
                f"{issuer}/credentials",
                params={"enrolment_id": enrolled["id"]},
                headers=staff,
            )["items"]
            return found[0] if found else None

        summary = self._until("the credential", issued)
        elapsed = time.monotonic() - graded_at
        credential = self._call("GET", summary["url"])
        self.say(f"7. the issuer signed an Open Badge → CredentialIssued: {summary['url']}")
        messages = self._until("the learner's messages", lambda: self._mail_to(email, staff))
        self.say("8. the notifier wrote to the learner (the dev mail sink, oldest first):")
        for message in messages:
            self.say(f"   {message['date']}  {message['subject']}")
        return JourneyResult(
            enrolment_id=enrolled["id"],
            credential_id=summary["id"],
            credential_url=summary["url"],
            credential=credential,
            grade_to_credential_seconds=elapsed,
            trace_id=self.trace_id,
            email=email,
            messages=messages,
        )

    def _mail_to(self, email: str, staff: dict[str, str]) -> list[dict[str, Any]] | None:
        """The messages to ``email`` in the notifier's mail sink, oldest first, once every
        message the journey causes is there."""
        found, cursor = [], None
        while True:
            page = self._call(
                "GET",
                f"{self.urls['notifier']}/admin/mailbox",
                params={"cursor": cursor} if cursor else {},
                headers=staff,
            )
            found += [m for m in page["items"] if m["to"] == email]
            if (cursor := page["next_cursor"]) is None:
                break
        found.reverse()
        return found if len(found) >= len(JOURNEY_MESSAGES) else None
