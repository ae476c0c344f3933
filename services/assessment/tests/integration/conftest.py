"""The assessment service on the real engines, a fake Moodle web service on 127.0.0.1, and
the steps the tests share: publishing a micro-credential, confirming enrolments,
registering LMS clients and linking learners."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assessment import tables
from assessment.main import create_app
from assessment.settings import Settings
from credstack import engines
from credstack.contracts.catalogue import (
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.testing import (
    ServiceUnderTest,
    Tokens,
    deliver,
    running_service,
    service_settings,
    staged_events,
)

NOW = datetime.now(UTC)
MOODLE_WS_TOKEN = "moodle-ws-token-for-tests"
MOODLE_CLIENT = "moodle-main"


@dataclass
class FakeMoodle:
    """Moodle's REST web service as far as `gradereport_user_get_grade_items` goes.

    `grades[(course, user)]` is the response body for that learner; `down` makes it
    answer 503, as a Moodle in maintenance does. Every request is kept in `calls`.
    """

    url: str = ""
    grades: dict[tuple[int, int], Any] = field(default_factory=dict)
    down: bool = False
    calls: list[dict[str, str]] = field(default_factory=list)

    async def server_php(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        self.calls.append(form)
        if self.down:
            return Response("Site is under maintenance", status_code=503)
        if form.get("wstoken") != MOODLE_WS_TOKEN:
            return JSONResponse(
                {"exception": "moodle_exception", "errorcode": "invalidtoken", "message": "x"}
            )
        if form.get("wsfunction") != "gradereport_user_get_grade_items":
            return JSONResponse(
                {"exception": "dml_missing_record_exception", "errorcode": "invalidrecord"}
            )
        key = (int(form["courseid"]), int(form["userid"]))
        if key not in self.grades:
            return JSONResponse({"usergrades": [], "warnings": []})
        return JSONResponse(self.grades[key])

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/webservice/rest/server.php", self.server_php, methods=["POST"])]
        )


@pytest.fixture(scope="session")
async def fake_moodle() -> AsyncIterator[FakeMoodle]:
    moodle = FakeMoodle()
    port = engines.free_port()
    moodle.url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(
            moodle.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    await asyncio.to_thread(engines.wait_for_port, port)
    yield moodle
    server.should_exit = True
    await task


@pytest.fixture
async def assessment(
    database_url: str,
    kafka_bootstrap: str,
    tokens: Tokens,
    tmp_path: Path,
    fake_moodle: FakeMoodle,
) -> AsyncIterator[ServiceUnderTest]:
    fake_moodle.grades.clear()
    fake_moodle.calls.clear()
    fake_moodle.down = False
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        moodle_ws_tokens={MOODLE_CLIENT: MOODLE_WS_TOKEN},
    )
    async for service in running_service(create_app, settings, tables.metadata, "assessment"):
        yield service


def published(
    pass_mark: int = 70, outcomes: tuple[str, ...] = ("LO1", "LO2")
) -> MicroCredentialPublished:
    return MicroCredentialPublished(
        micro_credential_id=uuid4(),
        version=1,
        code="MC-DATA-101",
        title="Data Cleaning",
        description="D",
        learning_outcomes=[LearningOutcome(id=o, description=o) for o in outcomes],
        pass_mark=Decimal(pass_mark),
        credit_points=Decimal("3.125"),
        notional_hours=Decimal(65),
        cpd_hours=Decimal(65),
        published_at=NOW,
    )


def scheduled(
    item: MicroCredentialPublished,
    *,
    contact_sessions: int | None = None,
    lms_course_ref: str | None = None,
) -> OfferingScheduled:
    return OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=item.version,
        code=item.code,
        title=item.title,
        starts_on=NOW.date(),
        ends_on=NOW.date(),
        enrolment_opens_at=NOW,
        enrolment_closes_at=NOW,
        capacity=30,
        delivery_mode="on-campus",
        fee_cents=0,
        contact_sessions=contact_sessions,
        lms_course_ref=lms_course_ref,
    )


def confirmed(
    item: MicroCredentialPublished, offering_id: UUID, enrolment_id: UUID | None = None
) -> EnrolmentConfirmed:
    return EnrolmentConfirmed(
        enrolment_id=enrolment_id or uuid4(),
        learner_id=uuid4(),
        learner_name="Priya Natarajan",
        email="priya@example.org",
        offering_id=offering_id,
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=item.version,
        confirmed_at=NOW,
    )


def event_names(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].split(".")[2] for e in events]


@dataclass
class Cohort:
    """A published micro-credential with one scheduled offering."""

    service: ServiceUnderTest
    tokens: Tokens
    item: MicroCredentialPublished
    offering: OfferingScheduled

    @property
    def offering_id(self) -> UUID:
        return self.offering.offering_id

    @property
    def http(self) -> httpx.AsyncClient:
        return self.service.http

    def staff(self) -> dict[str, str]:
        return self.tokens("staff", "staff-assessor")

    def lms(self, client_id: str) -> dict[str, str]:
        return self.tokens("lms", f"svc-{client_id}", client_id=client_id)

    async def confirm(self, enrolment_id: UUID | None = None) -> EnrolmentConfirmed:
        enrolment = confirmed(self.item, self.offering_id, enrolment_id)
        assert await deliver(self.service.app, enrolment) == "applied"
        return enrolment

    async def register(
        self, client_id: str, kind: str, *, offerings: list[UUID] | None = None, **extra: Any
    ) -> dict[str, Any]:
        response = await self.http.put(
            f"/lms-clients/{client_id}",
            json={
                "kind": kind,
                "name": client_id,
                "offering_ids": [str(o) for o in (offerings or [self.offering_id])],
                **extra,
            },
            headers=self.tokens("staff", "staff-operator"),
        )
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    async def link(self, client_id: str, subject: str, enrolment_id: UUID) -> httpx.Response:
        return await self.http.post(
            "/roster-links",
            json={
                "client_id": client_id,
                "subject": subject,
                "offering_id": str(self.offering_id),
                "enrolment_id": str(enrolment_id),
            },
            headers=self.staff(),
        )

    async def declare(
        self, client_id: str, *activities: dict[str, Any], offering_id: UUID | None = None
    ) -> httpx.Response:
        """Staff declare the client's activities for the offering (the summative one...)."""
        return await self.http.put(
            f"/lms-clients/{client_id}/offerings/{offering_id or self.offering_id}/activities",
            json={"activities": list(activities)},
            headers=self.staff(),
        )

    async def native(
        self, client_id: str, enrolment_id: UUID, score: float, **extra: Any
    ) -> httpx.Response:
        return await self.http.post(
            "/grades",
            json={"enrolment_id": str(enrolment_id), "score": score, **extra},
            headers=self.lms(client_id),
        )

    async def events(self) -> list[dict[str, Any]]:
        return await staged_events(self.service.engine, tables.outbox)

    async def outcome_events(self) -> list[str]:
        return [n for n in event_names(await self.events()) if n != "GradeRecorded"]

    async def result(self, enrolment_id: UUID) -> dict[str, Any]:
        response = await self.http.get(f"/enrolments/{enrolment_id}/result", headers=self.staff())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def cohort(assessment: ServiceUnderTest, tokens: Tokens) -> Cohort:
    item = published()
    offering = scheduled(item, contact_sessions=5, lms_course_ref="12")
    await deliver(assessment.app, item)
    await deliver(assessment.app, offering)
    return Cohort(assessment, tokens, item, offering)
