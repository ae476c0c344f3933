"""One learner's journey through the running platform, over HTTP only.

Staff propose a micro-credential, an approver approves and publishes it, staff schedule
an offering; a learner enrols, the payment provider's webhook says the fee is paid; the
LMS posts a passing grade; the issuer signs the Open Badge. Used by `credstack demo` and
by the cross-service tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header exactly as Stripe computes it (HMAC-SHA256 of t.body)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def checkout_completed(enrolment_id: str, amount: int) -> dict[str, Any]:
    """A `checkout.session.completed` event (paid) in Stripe's format."""
    return {
        "id": f"evt_{uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": f"cs_test_{uuid4().hex}",
                "object": "checkout.session",
                "amount_total": amount,
                "currency": "aud",
                "client_reference_id": enrolment_id,
                "metadata": {"enrolment_id": enrolment_id},
                "mode": "payment",
                "payment_status": "paid",
                "status": "complete",
            }
        },
    }


class Journey:
    def __init__(
        self,
        *,
        urls: dict[str, str],
        signing_key: ECKey,
        webhook_secret: str,
        say: Callable[[str], None] = lambda _: None,
        timeout: float = 60.0,
    ) -> None:
        self.urls = urls
        self.key = signing_key
        self.webhook_secret = webhook_secret
        self.say = say
        self.timeout = timeout
        self.http = httpx.Client(timeout=10.0)

    def _token(self, role: str, subject: str, **claims: Any) -> dict[str, str]:
        token = devauth.mint(self.key, role=role, subject=subject, **claims)
        return {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, url: str, *, repeatable: bool = True, **kwargs: Any) -> Any:
        """One request, retried while the service is unreachable (e.g. restarting).

        A request that may have reached the service is retried only if `repeatable`
        (a read, or a write the service deduplicates: Idempotency-Key, webhook event id).
        """
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                response = self.http.request(method, url, **kwargs)
                break
            except httpx.ConnectError:
                pass
            except httpx.TransportError:
                if not repeatable:
                    raise
            if time.monotonic() > deadline:
                raise JourneyFailed(f"{method} {url}: the service stayed unreachable")
            time.sleep(0.3)
        if response.status_code >= 400:
            raise JourneyFailed(f"{method} {url} → {response.status_code}: {response.text}")
        return response.json()

    def _until(self, what: str, attempt: Callable[[], Any]) -> Any:
        """Retry `attempt` until it returns a value: the platform is eventually consistent."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if (value := attempt()) is not None:
                    return value
            except (JourneyFailed, httpx.TransportError) as error:
                if time.monotonic() > deadline:
                    raise JourneyFailed(f"gave up waiting for {what}: {error}") from error
            if time.monotonic() > deadline:
                raise JourneyFailed(f"gave up waiting for {what}")
            time.sleep(0.2)

    def run(self) -> JourneyResult:
        catalogue, enrolment = self.urls["catalogue"], self.urls["enrolment"]
        assessment, issuer = self.urls["assessment"], self.urls["issuer"]
        staff = self._token("staff", "staff-demo")
        approver = self._token("approver", "approver-demo")
        learner = self._token("learner", f"learner-{uuid4().hex[:8]}")
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
                "credit_points": "3.125",
                "notional_hours": "65",
                "field_of_study": "Management and Commerce",
                "fee_cents": 129500,
            },
        )
        self.say(f"1. staff proposed {code} (draft {item['id']})")
        for action, who in (("submit", staff), ("approve", approver), ("publish", approver)):
            self._call(
                "POST",
                f"{catalogue}/micro-credentials/{item['id']}/{action}",
                headers=who,
                repeatable=False,
            )
        self.say("2. an approver approved and published it → MicroCredentialPublished")
        now = datetime.now(UTC)
        offering = self._call(
            "POST",
            f"{catalogue}/micro-credentials/{item['id']}/offerings",
            headers={**staff, "Idempotency-Key": f"demo-offering-{code}"},
            json={
                "starts_on": (date.today() + timedelta(days=14)).isoformat(),
                "ends_on": (date.today() + timedelta(days=56)).isoformat(),
                "enrolment_opens_at": (now - timedelta(hours=1)).isoformat(),
                "enrolment_closes_at": (now + timedelta(days=10)).isoformat(),
                "capacity": 30,
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

        def enrol() -> Any:
            return self._call(
                "POST",
                f"{enrolment}/enrolments",
                headers={**learner, "Idempotency-Key": f"demo-{offering['id']}"},
                json={
                    "offering_id": offering["id"],
                    "learner_name": "Ada Lovelace",
                    "email": "ada@example.org",
                },
            )

        enrolled = self._until("the enrolment service to learn of the offering", enrol)
        self.say(f"4. the learner enrolled: {enrolled['id']} ({enrolled['status']})")
        body = json.dumps(checkout_completed(enrolled["id"], enrolled["fee_cents"])).encode()
        self._call(
            "POST",
            f"{enrolment}/payments/stripe/webhook",
            content=body,
            headers={
                "Stripe-Signature": stripe_signature(body, self.webhook_secret),
                "Content-Type": "application/json",
            },
        )

        def confirmed() -> Any:
            view = self._call("GET", f"{enrolment}/enrolments/{enrolled['id']}", headers=learner)
            return view if view["status"] == "confirmed" else None

        self._until("the enrolment to be confirmed", confirmed)
        self.say("5. the payment webhook marked the fee paid → EnrolmentConfirmed")
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
            )
            return found[0] if found else None

        summary = self._until("the credential", issued)
        elapsed = time.monotonic() - graded_at
        credential = self._call("GET", summary["url"])
        self.say(f"7. the issuer signed an Open Badge → CredentialIssued: {summary['url']}")
        return JourneyResult(
            enrolment_id=enrolled["id"],
            credential_id=summary["id"],
            credential_url=summary["url"],
            credential=credential,
            grade_to_credential_seconds=elapsed,
        )
