"""The dashboard page in headless Chromium: live events, a dropped connection, actions."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from sqlalchemy import select

from assessment import tables as assessment_tables
from assessment.main import create_app as create_assessment
from assessment.settings import Settings as AssessmentSettings
from catalogue import tables as catalogue_tables
from catalogue.main import create_app as create_catalogue
from catalogue.settings import Settings as CatalogueSettings
from credstack import engines
from credstack.auth import ROLE_SCOPES
from credstack.contracts import assessment, catalogue
from credstack.contracts.envelope import to_cloudevent
from credstack.db import create_engine
from credstack.testing import REPO, Tokens, deliver, migrate_once, service_settings, truncate
from dashboard import tables
from dashboard.main import create_app
from dashboard.settings import Settings

from .conftest import served

SCREENSHOTS = os.environ.get("DASHBOARD_SCREENSHOTS") == "1"
STAFF_AND_APPROVER = " ".join(sorted({*ROLE_SCOPES["staff"], *ROLE_SCOPES["approver"]}))


def grade() -> assessment.GradeRecorded:
    return assessment.GradeRecorded(
        enrolment_id=uuid4(), score=Decimal(72), source="moodle", recorded_at=datetime.now(UTC)
    )


async def empty_dashboard(settings: Settings) -> None:
    await asyncio.to_thread(migrate_once, settings.database_url, "dashboard")
    await truncate(settings.database_url, tables.metadata)


def dashboard_settings(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path, **overrides: Any
) -> Settings:
    settings: Settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        **{"stream_heartbeat_seconds": 1.0, "stream_poll_seconds": 0.5, **overrides},
    )
    return settings


async def signed_in_page(browser: Any, url: str, tokens: Tokens, **viewport: int) -> Any:
    page = await browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    await page.goto(url)
    token = tokens("staff", "staff-at-the-desk", scope=STAFF_AND_APPROVER)["Authorization"][7:]
    await page.get_by_label("Staff token").fill(token)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_selector("#connection.live", timeout=10_000)
    return page


async def test_events_appear_live_on_the_open_page_within_a_second(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    settings = dashboard_settings(database_url, kafka_bootstrap, tokens, tmp_path)
    await empty_dashboard(settings)
    app = create_app(settings)
    async with served(app) as url:
        page = await signed_in_page(browser, url, tokens)
        for position in range(1, 9):
            await deliver(app, grade())
            await page.wait_for_selector(f'#feed li[data-position="{position}"]', timeout=1_000)
        assert await page.locator("#feed li").count() == 8
        assert "final grade of 72%" in (await page.locator("#feed li").first.inner_text())
        await page.close()


async def test_a_dropped_connection_that_comes_back_shows_every_event_once(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    settings = dashboard_settings(database_url, kafka_bootstrap, tokens, tmp_path)
    await empty_dashboard(settings)
    port = engines.free_port()
    app = create_app(settings)
    async with served(app, port) as url:
        page = await signed_in_page(browser, url, tokens)
        for _ in range(5):
            await deliver(app, grade())
        await page.wait_for_selector('#feed li[data-position="5"]', timeout=5_000)
        await page.evaluate("window.dashboard.drop()")  # the client drops mid-stream
        for _ in range(5):
            await deliver(app, grade())
    # The dashboard itself goes away; events arrive in the log meanwhile; it comes back.
    restarted = create_app(settings)
    async with restarted.router.lifespan_context(restarted):
        for _ in range(5):
            await deliver(restarted, grade())
    restarted = create_app(settings)
    async with served(restarted, port):
        await page.wait_for_selector("#connection.live", timeout=20_000)
        for _ in range(5):
            await deliver(restarted, grade())
        await page.wait_for_selector('#feed li[data-position="20"]', timeout=10_000)
        await asyncio.sleep(1.0)  # anything repeated would show up now
        seen = await page.evaluate("window.dashboard.seen")
        assert seen == list(range(1, 21))
        shown = await page.locator("#feed li").evaluate_all(
            "items => items.map(li => Number(li.dataset.position))"
        )
        assert sorted(shown) == list(range(1, 21))
        await page.close()


def scheduled_offering() -> catalogue.OfferingScheduled:
    at = datetime.now(UTC)
    return catalogue.OfferingScheduled(
        offering_id=uuid4(),
        micro_credential_id=uuid4(),
        micro_credential_version=1,
        code="MC-PARKED",
        title="Parked, then replayed",
        starts_on=at.date(),
        ends_on=at.date(),
        enrolment_opens_at=at,
        enrolment_closes_at=at,
        capacity=10,
        delivery_mode="on-campus",
        fee_cents=0,
        lms_course_ref="moodle:course/77",
        contact_sessions=6,
    )


async def test_an_approval_and_a_parked_event_replay_from_the_page_take_effect(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    catalogue_port, assessment_port = engines.free_port(), engines.free_port()
    catalogue_settings = service_settings(
        CatalogueSettings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url=f"http://127.0.0.1:{catalogue_port}",
    )
    catalogue_settings.run_worker = True
    assessment_settings = service_settings(
        AssessmentSettings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url=f"http://127.0.0.1:{assessment_port}",
    )
    for service in ("catalogue", "assessment"):
        await asyncio.to_thread(migrate_once, database_url, service)
    await truncate(database_url, catalogue_tables.metadata)
    await truncate(database_url, assessment_tables.metadata)
    catalogue_engine = create_engine(database_url, "catalogue")
    assessment_engine = create_engine(database_url, "assessment")
    settings = dashboard_settings(
        database_url,
        kafka_bootstrap,
        tokens,
        tmp_path,
        catalogue_url=f"http://127.0.0.1:{catalogue_port}",
        assessment_url=f"http://127.0.0.1:{assessment_port}",
    )
    settings.run_worker = True
    await empty_dashboard(settings)
    code = f"MC-UI-{uuid4().hex[:6].upper()}"
    # An event the assessment service handles (an offering's LMS course and contact
    # sessions), parked after a failure: the replay must apply it there.
    offering = scheduled_offering()
    parked = assessment_tables.parked.table
    async with assessment_engine.begin() as conn:
        parked_id = (
            await conn.execute(
                parked.insert()
                .values(
                    topic="catalogue.events",
                    partition=0,
                    offset=0,
                    key=offering.key(),
                    payload=json.dumps(
                        to_cloudevent(
                            offering,
                            event_id=uuid4(),
                            time=datetime.now(UTC),
                            source="/credstack/catalogue",
                            traceparent=None,
                        )
                    ),
                    error="RuntimeError: a bug, since fixed",
                    parked_at=datetime.now(UTC),
                )
                .returning(parked.c.id)
            )
        ).scalar_one()
    async with (
        served(create_catalogue(catalogue_settings), catalogue_port) as catalogue_url,
        served(create_assessment(assessment_settings), assessment_port),
        served(create_app(settings)) as url,
    ):
        async with httpx.AsyncClient(base_url=catalogue_url, timeout=20) as http:
            proposer = tokens("staff", "staff-proposer")
            created = await http.post("/micro-credentials", json=draft(code), headers=proposer)
            assert created.status_code == 201, created.text
            submitted = await http.post(f"/micro-credentials/{code}/submit", headers=proposer)
            assert submitted.status_code == 200, submitted.text

        page = await signed_in_page(browser, url, tokens)
        replay = page.get_by_role("button", name=f"Replay parked event {parked_id}")
        await replay.wait_for(timeout=10_000)
        await replay.click()
        await page.wait_for_selector(
            "#action-result:has-text('Replayed in assessment: applied')", timeout=10_000
        )
        async with assessment_engine.connect() as conn:
            row = (await conn.execute(select(parked).where(parked.c.id == parked_id))).one()
            applied = (
                await conn.execute(
                    select(assessment_tables.offering).where(
                        assessment_tables.offering.c.id == offering.offering_id
                    )
                )
            ).one()
        assert row.replayed_at is not None
        assert (applied.lms_course_ref, applied.contact_sessions) == ("moodle:course/77", 6)

        # The submitted item is listed as awaiting approval, with its action.
        approve = page.get_by_role("button", name=f"Approve and publish {code}")
        await approve.wait_for(timeout=10_000)
        await approve.click()
        await page.wait_for_selector(f"#action-result:has-text('{code} approved and published')")
        async with httpx.AsyncClient(base_url=catalogue_url) as http:
            published = await http.get(f"/micro-credentials/{code}")
            assert published.status_code == 200, published.text
            assert published.json()["status"] == "published"
        # The publication travels catalogue → outbox → broker → dashboard → the open page,
        # and the item leaves the attention list.
        await page.wait_for_selector(f"#feed li:has-text('{code}')", timeout=30_000)
        await approve.wait_for(state="detached", timeout=10_000)
        if SCREENSHOTS:
            await page.screenshot(path=str(REPO / "docs" / "dashboard.png"), full_page=True)
            phone = await signed_in_page(browser, url, tokens, width=390, height=844)
            await phone.screenshot(path=str(REPO / "docs" / "dashboard-phone.png"), full_page=False)
            await phone.close()
        await page.close()
    await catalogue_engine.dispose()
    await assessment_engine.dispose()


def draft(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "title": "Data Cleaning for Analysts",
        "summary": "Prepare messy data for trustworthy analysis.",
        "description": "Profiling, cleaning and documenting real datasets.",
        "learning_outcomes": [
            {"id": "LO1", "description": "Profile a dataset"},
            {"id": "LO2", "description": "Document cleaning decisions"},
        ],
        "alignments": [{"name": "Data quality", "url": "https://esco.example/skill/42"}],
        "category": "professional-development",
        "field_of_study": "Information Technology",
        "credit_points": "3.125",
        "notional_hours": "65",
        "contact_hours": "12",
        "delivery_modes": ["on-campus"],
        "assessment_description": "A cleaned dataset and a 1,250-word report.",
        "assessment_word_equivalent": 1250,
        "fee_cents": 99000,
        "strategic_plan_alignment": "Advances lifelong learning for the professions.",
        "convenor": "Dr Ada Byron",
    }
