"""A learner's privacy rights across the services, in process: the archive gathers every
service's export over HTTP with the learner's token, and erasure, announced by the
enrolment service's events, removes their personal data everywhere while their credential
keeps verifying.

Each service runs on its own schema as in its own tests; the enrolment service reaches the
others through an HTTP transport that routes by host to their ASGI apps, and the events it
stages are delivered to the services that consume them, as the bus would.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import select

from credstack.auth import learner_id_for
from credstack.contracts.assessment import AssessmentPassed
from credstack.contracts.catalogue import (
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.contracts.envelope import Event, parse
from credstack.testing import ServiceUnderTest, Tokens, deliver, running_service, service_settings

SERVICES = ("enrolment", "assessment", "issuer", "notifier", "dashboard")
HOSTS = {
    "enrolment": "http://enrolment.test",
    "assessment": "http://assessment.test",
    "issuer": "http://localhost:8004",
    "notifier": "http://notifier.test",
    "dashboard": "http://dashboard.test",
}
NOW = datetime.now(UTC)


class Routed(httpx.AsyncBaseTransport):
    """HTTP to each service's app, by the host its URL names."""

    def __init__(self, services: dict[str, ServiceUnderTest]) -> None:
        self.transports = {
            httpx.URL(HOSTS[name]).host: httpx.ASGITransport(app=s.app)
            for name, s in services.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[request.url.host].handle_async_request(request)


@pytest.fixture
async def platform(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[dict[str, ServiceUnderTest]]:
    async with contextlib.AsyncExitStack() as stack:
        services: dict[str, ServiceUnderTest] = {}
        for name in SERVICES:
            main = __import__(f"{name}.main", fromlist=["create_app"])
            settings_class = __import__(f"{name}.settings", fromlist=["Settings"]).Settings
            tables = __import__(f"{name}.tables", fromlist=["metadata"])
            extra = (
                {f"{s}_url": HOSTS[s] for s in SERVICES if s != "enrolment"}
                if name == "enrolment"
                else {}
            )
            settings = service_settings(
                settings_class,
                database_url=database_url,
                kafka_bootstrap=kafka_bootstrap,
                tokens=tokens,
                data_dir=tmp_path / name,
                public_url=HOSTS[name],
                **extra,
            )
            running = contextlib.asynccontextmanager(running_service)(
                main.create_app, settings, tables.metadata, name
            )
            services[name] = await stack.enter_async_context(running)
        services["enrolment"].app.state.export_transport = Routed(services)
        yield services


async def broadcast(platform: dict[str, ServiceUnderTest], *events: Event) -> None:
    """Each event to every service that consumes it, as the bus would deliver it."""
    for event in events:
        for service in platform.values():
            if type(event) in service.app.state.consumer.handlers:
                assert await deliver(service.app, event) in ("applied", "duplicate")


async def relay(platform: dict[str, ServiceUnderTest], *, after: int = 0) -> int:
    """Deliver what the enrolment service staged (past outbox row `after`); the last row."""
    enrolment = platform["enrolment"]
    table = enrolment.app.state.definition.outbox.table
    async with enrolment.engine.connect() as conn:
        rows = (
            await conn.execute(select(table).where(table.c.id > after).order_by(table.c.id))
        ).all()
    for row in rows:
        received = parse(row.payload)
        assert received is not None
        await broadcast(platform, received.event)
    return rows[-1].id if rows else after


def learner(tokens: Tokens, name: str) -> dict[str, str]:
    return tokens("learner", name, email=f"{name}@example.org", email_verified=True)


async def credential_earned(
    platform: dict[str, ServiceUnderTest], tokens: Tokens, name: str
) -> UUID:
    """The learner's profile, a confirmed enrolment, a pass and the credential it issues."""
    saved = await platform["enrolment"].http.put(
        "/learners/me",
        json={"name_on_credential": f"{name.title()} Example"},
        headers=learner(tokens, name),
    )
    assert saved.status_code == 200, saved.text
    item = MicroCredentialPublished(
        micro_credential_id=uuid4(),
        version=1,
        code=f"MC-{name.upper()}",
        title="Data Cleaning",
        description="Prepare messy data for analysis.",
        learning_outcomes=[LearningOutcome(id="LO1", description="Clean a dataset")],
        pass_mark=Decimal(70),
        credit_points=Decimal("3"),
        notional_hours=Decimal(60),
        cpd_hours=Decimal(60),
        published_at=NOW,
    )
    offering = OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=1,
        code=item.code,
        title=item.title,
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=30),
        enrolment_opens_at=NOW,
        enrolment_closes_at=NOW + timedelta(days=5),
        capacity=20,
        delivery_mode="online",
        fee_cents=0,
    )
    confirmed = EnrolmentConfirmed(
        enrolment_id=uuid4(),
        learner_id=learner_id_for(name),
        offering_id=offering.offering_id,
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=1,
        confirmed_at=NOW,
    )
    passed = AssessmentPassed(
        enrolment_id=confirmed.enrolment_id,
        learner_id=confirmed.learner_id,
        micro_credential_id=item.micro_credential_id,
        micro_credential_version=1,
        decided_at=NOW,
        score=Decimal("86"),
    )
    await broadcast(platform, item, offering, confirmed, passed)
    return confirmed.enrolment_id


async def archive_of(
    platform: dict[str, ServiceUnderTest], headers: dict[str, str]
) -> dict[str, Any]:
    response = await platform["enrolment"].http.get("/learners/me/archive", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {n.removesuffix(".json"): json.loads(archive.read(n)) for n in archive.namelist()}


async def test_the_archive_holds_every_services_data_on_the_learner_and_nobody_elses(
    platform: dict[str, ServiceUnderTest], tokens: Tokens
) -> None:
    await relay(platform)  # nothing yet
    await credential_earned(platform, tokens, "ada")
    await credential_earned(platform, tokens, "grace")
    await relay(platform)

    files = await archive_of(platform, learner(tokens, "ada"))

    assert set(files) == {"manifest", *SERVICES}
    manifest = files.pop("manifest")
    assert manifest["complete"] is True
    assert {s["service"] for s in manifest["services"]} == set(SERVICES)
    ada = str(learner_id_for("ada"))
    assert {name: data["learner_id"] for name, data in files.items()} == dict.fromkeys(
        SERVICES, ada
    )
    assert files["enrolment"]["profile"]["email"] == "ada@example.org"
    assert files["issuer"]["contact"]["name"] == "Ada Example"
    [credential] = files["issuer"]["credentials"]
    assert credential["document"]["credentialSubject"]["identifier"]
    assert files["notifier"]["contact"]["email"] == "ada@example.org"
    assert len(files["assessment"]["enrolments"]) == 1
    assert files["dashboard"]["events"]
    everything = json.dumps(files)
    assert "grace" not in everything.lower()
    assert str(learner_id_for("grace")) not in everything


async def test_erasure_reaches_every_service_and_the_credential_still_verifies(
    platform: dict[str, ServiceUnderTest], tokens: Tokens
) -> None:
    await credential_earned(platform, tokens, "ada")
    await credential_earned(platform, tokens, "grace")
    staged = await relay(platform)
    [credential] = (await archive_of(platform, learner(tokens, "ada")))["issuer"]["credentials"]

    erased = await platform["enrolment"].http.post(
        "/learners/me/erasure", headers=learner(tokens, "ada")
    )
    assert erased.status_code == 200, erased.text
    await relay(platform, after=staged)
    await relay(platform, after=staged)  # delivered again: harmless

    files = await archive_of(platform, learner(tokens, "ada"))
    everything = json.dumps(files)
    assert "ada@example.org" not in everything
    assert files["enrolment"]["profile"] is None
    assert files["enrolment"]["erasure"]["erased_at"] == erased.json()["erased_at"]
    assert files["issuer"]["contact"] is None
    [kept] = files["issuer"]["credentials"]
    assert kept["document"] == credential["document"]
    assert kept["recipient_name"] == "Ada Example"  # as printed on the credential
    assert files["notifier"]["contact"] is None
    verdict = await platform["issuer"].http.post("/verify", json=credential["document"])
    assert verdict.json()["verified"] is True, verdict.text
    grace = await archive_of(platform, learner(tokens, "grace"))
    assert grace["enrolment"]["profile"]["email"] == "grace@example.org"
    assert grace["issuer"]["contact"]["email"] == "grace@example.org"
