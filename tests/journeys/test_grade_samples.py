"""Every grade sample in ../shared/samples/grades/ gets the answer its manifest expects from the
assessment service running in the stack: its own process, learning of the micro-credential,
the offering and the enrolments from the real broker, fetching Moodle grades over HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from credstack import devauth, devstack, engines
from credstack.contracts.catalogue import (
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.contracts.envelope import Event, to_cloudevent
from credstack.testing import REPO

SAMPLES = REPO.parent / "shared" / "samples" / "grades"
MANIFEST = json.loads((SAMPLES / "MANIFEST.json").read_text())
MOODLE_WS_TOKEN = "stack-moodle-ws-token"
XAPI_USER, XAPI_PASSWORD = "moodle-lrs", "example-only-password"  # the samples' Basic credentials
XAPI_ACTOR = "https://moodle.example.ac.uk|1047"  # the samples' actor account


@pytest.fixture(scope="module", autouse=True)
def moodle_web_service() -> Iterator[str]:
    """Moodle's web service answering with the sample grade report; the stack started in
    this module is configured with its token."""
    report = json.loads(
        (
            SAMPLES / "moodle" / "valid_03_ws_gradereport_user_get_grade_items_response.json"
        ).read_text()
    )

    async def server_php(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("wstoken") != MOODLE_WS_TOKEN:
            return JSONResponse({"exception": "moodle_exception", "errorcode": "invalidtoken"})
        return JSONResponse(report)

    port = engines.free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/webservice/rest/server.php", server_php, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    engines.wait_for_port(port)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ASSESSMENT_MOODLE_WS_TOKENS", json.dumps({"moodle-main": MOODLE_WS_TOKEN}))
        yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


class Platform:
    """The running assessment service, and the other services' events as the broker carries them."""

    def __init__(self, stack: devstack.Stack) -> None:
        self.stack = stack
        self.url = stack.url("assessment")
        self.key = devauth.signing_key(Path(stack.data_dir))
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.item = MicroCredentialPublished(
            micro_credential_id=uuid4(),
            version=1,
            code="MC-DATA-101",
            title="Data Cleaning",
            description="Samples",
            learning_outcomes=[LearningOutcome(id="LO1", description="Clean data")],
            credit_points=Decimal("3.125"),
            notional_hours=Decimal(65),
            cpd_hours=Decimal(65),
            published_at=datetime.now(UTC),
        )
        self.offering = OfferingScheduled(
            offering_id=uuid4(),
            micro_credential_id=self.item.micro_credential_id,
            micro_credential_version=1,
            code="MC-DATA-101",
            title="Data Cleaning",
            starts_on=datetime.now(UTC).date(),
            ends_on=datetime.now(UTC).date(),
            enrolment_opens_at=datetime.now(UTC),
            enrolment_closes_at=datetime.now(UTC),
            capacity=30,
            delivery_mode="on-campus",
            fee_cents=0,
            lms_course_ref="12",
        )
        self.publish(self.item, self.offering)

    def token(self, role: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {devauth.mint(self.key, role=role, **claims)}"}

    def publish(self, *events: Event) -> None:
        async def send() -> None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.stack.kafka_bootstrap_servers, enable_idempotence=False
            )
            await producer.start()
            try:
                for event in events:
                    envelope = to_cloudevent(
                        event,
                        event_id=uuid4(),
                        time=datetime.now(UTC),
                        source=f"/credstack/{event.producer}",
                        traceparent=None,
                    )
                    await producer.send_and_wait(
                        f"{event.producer}.events",
                        key=event.key().encode(),
                        value=json.dumps(envelope).encode(),
                    )
            finally:
                await producer.stop()

        asyncio.run(send())

    def confirmed(self, enrolment_id: UUID | None = None) -> UUID:
        enrolment = EnrolmentConfirmed(
            enrolment_id=enrolment_id or uuid4(),
            learner_id=uuid4(),
            learner_name="Priya Natarajan",
            email="priya@example.org",
            offering_id=self.offering.offering_id,
            micro_credential_id=self.item.micro_credential_id,
            micro_credential_version=1,
            confirmed_at=datetime.now(UTC),
        )
        self.publish(enrolment)
        url = f"/enrolments/{enrolment.enrolment_id}/result"
        deadline = time.monotonic() + 60
        while self.http.get(url, headers=self.token("staff")).status_code != 200:
            assert time.monotonic() < deadline, "the assessment service never consumed it"
            time.sleep(0.1)
        return enrolment.enrolment_id

    def register(self, client_id: str, kind: str, **extra: Any) -> None:
        response = self.http.put(
            f"/lms-clients/{client_id}",
            json={
                "kind": kind,
                "name": client_id,
                "offering_ids": [str(self.offering.offering_id)],
                **extra,
            },
            headers=self.token("staff"),
        )
        assert response.status_code in (200, 201), response.text

    def link(self, client_id: str, subject: str, enrolment_id: UUID) -> None:
        response = self.http.post(
            "/roster-links",
            json={
                "client_id": client_id,
                "subject": subject,
                "offering_id": str(self.offering.offering_id),
                "enrolment_id": str(enrolment_id),
            },
            headers=self.token("staff"),
        )
        assert response.status_code in (200, 201), response.text


@pytest.fixture(scope="module")
def platform(stack: devstack.Stack, moodle_web_service: str) -> Platform:
    running = Platform(stack)
    running.register(
        "moodle-main",
        "moodle",
        secret=MANIFEST["moodle"]["shared_token"],
        moodle_url=moodle_web_service,
    )
    running.link("moodle-main", "1047", running.confirmed())
    running.register(XAPI_USER, "xapi", secret=XAPI_PASSWORD)
    running.link(XAPI_USER, XAPI_ACTOR, running.confirmed())
    return running


def _request(kind: str, file: str) -> tuple[dict[str, str], bytes]:
    path = SAMPLES / kind / file
    if not file.endswith(".http"):
        spec = MANIFEST[kind]
        return {
            "Content-Type": spec["content_type"].split(" ")[0],
            **spec.get("headers", {}),
        }, path.read_bytes()
    head, _, rest = path.read_text().partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
    body = "\n".join(line for line in rest.splitlines() if not line.startswith("#")).strip()
    return {k: v for k, v in headers.items() if k not in ("Host", "Authorization")}, body.encode()


def _send(platform: Platform, kind: str, file: str, client: str) -> httpx.Response:
    """Send a sample as that integration would, with its credentials."""
    headers, body = _request(kind, file)
    if kind == "lti_ags":
        headers |= platform.token("lms", client_id=client)
        path = f"/lti/offerings/{platform.offering.offering_id}/lineitem/scores"
    elif kind == "caliper":
        headers |= {"Authorization": f"Bearer {client}-api-key-0000"}
        path = "/caliper/events"
    elif kind == "xapi":
        basic = base64.b64encode(f"{XAPI_USER}:{XAPI_PASSWORD}".encode()).decode()
        headers |= {"Authorization": f"Basic {basic}"}
        path = "/xapi/statements"
    else:
        path = "/moodle/webhook"
    return platform.http.post(path, content=body, headers=headers)


def _cases() -> list[Any]:
    return [
        pytest.param(kind, entry, id=f"{kind}/{entry['file']}")
        for kind, spec in MANIFEST.items()
        if not kind.startswith("_")
        for entry in spec["files"] + spec.get("http", [])
        if entry["expect"] is not None
    ]


@pytest.mark.parametrize(("kind", "entry"), _cases())
def test_each_grade_sample_gets_its_expected_answer_from_the_running_service(
    platform: Platform, kind: str, entry: dict[str, Any]
) -> None:
    client = f"{kind.replace('_', '-')}-{uuid4().hex[:8]}"
    if kind == "lti_ags":
        platform.register(
            client, "lti", lti_issuer=f"https://{client}.example", lti_deployment_id="1"
        )
        platform.link(client, "5f2c9e1a-8b3d-4c7e-9a61-2d4f7b0e3c58", platform.confirmed())
    elif kind == "caliper":
        platform.register(client, "caliper", secret=f"{client}-api-key-0000")
        platform.link(client, "https://canvas.example.edu/users/20417", platform.confirmed())
    if before := entry.get("after"):
        assert _send(platform, kind, before, client).status_code < 300

    response = _send(platform, kind, entry["file"], client)

    assert response.status_code == entry["expect"], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
