"""The pipeline benchmark's LMS: posts passing grades as a real one would, and retries.

- one grade per request (``POST /grades``, the native form), or
- a cohort closed in batches (``--batch K``): an xAPI LRS forwarding K ``scored``
  statements per ``POST /xapi/statements`` (one request, one transaction), the learners
  linked by one roster CSV import and the summative activity declared by staff first.

A 503 (the service is busy: its database pool stayed exhausted) is retried after the
``Retry-After`` it gives, as a well-behaved client does; the grade is counted as sent when
it was first sent, so the latency includes the wait.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx

XAPI_CLIENT = "bench-lrs"
XAPI_SECRET = "bench-lrs-secret-000000001"
XAPI_ACTIVITY = "https://lms.example/assessment/1"  # declared the summative activity
LMS_HOME = "https://lms.example"
#: Give up retrying a grade after this long (it is then counted as refused).
RETRY_FOR_SECONDS = 300.0


class Sender:
    """Posts grades, retrying 503s; remembers when each was first sent and what was refused."""

    def __init__(self, http: httpx.AsyncClient, concurrency: int) -> None:
        self.http = http
        self.gate = asyncio.Semaphore(concurrency)
        self.sent: dict[str, float] = {}
        self.refused: list[str] = []
        self.refused_grades = 0
        self.retries = 0

    async def post(self, enrolments: Sequence[UUID], request: dict[str, Any]) -> None:
        """Send ``request`` (carrying the grades of ``enrolments``) until it is answered
        with something else than 503."""
        first = time.perf_counter()
        for e in enrolments:
            self.sent[str(e)] = first
        while True:
            async with self.gate:
                response = await self.http.request(**request)
            if response.status_code in (200, 204):
                return
            waited = time.perf_counter() - first
            if response.status_code == 503 and waited < RETRY_FOR_SECONDS:
                self.retries += 1
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            self.refused.append(f"{response.status_code} {response.text[:200]}")
            self.refused_grades += len(enrolments)
            return


def native_grade(enrolment_id: UUID, lms: dict[str, str]) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": "/grades",
        "headers": lms,
        "json": {"enrolment_id": str(enrolment_id), "score": 85},
    }


def xapi_statements(enrolment_ids: Sequence[UUID]) -> dict[str, Any]:
    basic = base64.b64encode(f"{XAPI_CLIENT}:{XAPI_SECRET}".encode()).decode()
    return {
        "method": "POST",
        "url": "/xapi/statements",
        "headers": {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"},
        "json": [
            {
                "actor": {"account": {"homePage": LMS_HOME, "name": str(e)}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"},
                "object": {"id": XAPI_ACTIVITY},
                "result": {"score": {"scaled": 0.85}},
            }
            for e in enrolment_ids
        ],
    }


async def register_lrs(
    http: httpx.AsyncClient, staff: dict[str, str], offering_id: UUID, enrolments: Sequence[UUID]
) -> None:
    """Staff register the LRS, import its roster (one CSV) and declare the summative
    activity: what an institution does once before its LMS closes a cohort."""
    registration = {
        "kind": "xapi",
        "name": "Bench LRS",
        "offering_ids": [str(offering_id)],
        "secret": XAPI_SECRET,
    }
    (
        await http.put(f"/lms-clients/{XAPI_CLIENT}", json=registration, headers=staff)
    ).raise_for_status()
    csv = "subject,enrolment_id\n" + "".join(f"{LMS_HOME}|{e},{e}\n" for e in enrolments)
    base = f"/lms-clients/{XAPI_CLIENT}/offerings/{offering_id}"
    imported = await http.post(
        f"{base}/roster", content=csv, headers={**staff, "Content-Type": "text/csv"}
    )
    imported.raise_for_status()
    if imported.json()["not_linked"]:
        raise RuntimeError(f"roster import refused rows: {imported.json()['not_linked'][:3]}")
    declared = await http.put(
        f"{base}/activities",
        json={"activities": [{"activity": XAPI_ACTIVITY, "summative": True}]},
        headers=staff,
    )
    declared.raise_for_status()
