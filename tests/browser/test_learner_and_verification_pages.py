"""The learner page (notifier) and the verification page (issuer) in headless Chromium:
what a learner sees, what a verifier sees, and axe-core's accessibility check on both."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import select

from credstack.contracts.enrolment import WaitlistSeatOffered
from credstack.contracts.issuer import CredentialRevoked
from credstack.db import create_engine
from credstack.testing import Tokens, deliver, migrate_once, service_settings, truncate
from issuer import tables as issuer_tables
from issuer.main import create_app as create_issuer
from issuer.settings import Settings as IssuerSettings
from notifier import tables as notifier_tables
from notifier.main import create_app as create_notifier
from notifier.settings import Settings as NotifierSettings
from services.issuer.tests import events as issuer_events
from services.notifier.tests import events as notifier_events

from .accessibility import serious_violations
from .conftest import served


async def empty(database_url: str, service: str, metadata: Any) -> None:
    await asyncio.to_thread(migrate_once, database_url, service)
    await truncate(database_url, metadata)


async def test_a_signed_in_learner_sees_what_waits_and_their_credentials_accessibly(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    settings = service_settings(
        NotifierSettings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        issuer_url="http://localhost:8004",
    )
    await empty(database_url, "notifier", notifier_tables.metadata)
    app = create_notifier(settings)
    ada = notifier_events.Learner()
    french = notifier_events.micro_credential(title="Analyse de données", language="fr")
    kept, lost = (
        notifier_events.micro_credential(title="Data Ethics"),
        notifier_events.micro_credential(title="Data Viz"),
    )
    offering = notifier_events.offering_of(french)
    waiting = uuid4()
    valid, revoked = ada.issued(kept, uuid4()), ada.issued(lost, uuid4())
    async with served(app) as url:
        for event in (
            ada.contact(),
            french,
            kept,
            lost,
            offering,
            ada.requested(offering, waiting),
            WaitlistSeatOffered(
                enrolment_id=waiting,
                learner_id=ada.id,
                offering_id=offering.offering_id,
                offer_expires_at=notifier_events.NOW + timedelta(hours=48),
                offered_at=notifier_events.NOW,
            ),
            valid,
            revoked,
            CredentialRevoked(
                credential_id=revoked.credential_id,
                learner_id=ada.id,
                reason="regraded",
                revoked_at=notifier_events.NOW,
            ),
        ):
            await deliver(app, event)
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(f"{url}/learner?lang=en")
        assert await serious_violations(page) == []  # the sign-in form
        token = tokens("learner", ada.subject)["Authorization"][7:]
        await page.get_by_label("Access token").fill(token)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        enrolment = page.locator("#enrolments li", has_text="Analyse de données")
        await enrolment.wait_for(timeout=10_000)
        text = await enrolment.inner_text()
        assert "Taught in French" in text and "A place is offered to you" in text
        assert "h " in text and " left" in text  # the countdown
        ethics = page.locator("#credentials li", has_text="Data Ethics")
        viz = page.locator("#credentials li", has_text="Data Viz")
        base = f"http://localhost:8004/credentials/{valid.credential_id}"
        for kind, suffix in (("JSON", ""), ("PNG", "/image.png"), ("SVG", "/image.svg")):
            link = ethics.get_by_role("link", name=f"Download {kind}: Data Ethics")
            assert await link.get_attribute("href") == base + suffix
        pdf = ethics.get_by_role("link", name="Download PDF: Data Ethics")
        assert await pdf.get_attribute("href") == f"{base}/certificate.pdf"
        assert await ethics.get_by_role("link", name="Add to LinkedIn").count() == 1
        assert "Revoked" in await viz.inner_text()
        assert await viz.get_by_role("link", name="Add to LinkedIn").count() == 0
        assert await serious_violations(page) == []  # the signed-in page
        await page.close()


async def test_the_verification_page_is_accessible_and_hides_linkedin_once_revoked(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    settings = service_settings(
        IssuerSettings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url="http://localhost:8004",
    )
    await empty(database_url, "issuer", issuer_tables.metadata)
    app = create_issuer(settings)
    item = issuer_events.micro_credential(language="fr")
    enrolment = issuer_events.Learner().confirmed(item)
    async with served(app) as url:
        for event in (item, enrolment, issuer_events.passed(enrolment)):
            await deliver(app, event)
        engine = create_engine(database_url, "issuer")
        async with engine.connect() as conn:
            [credential_id] = (await conn.execute(select(issuer_tables.credential.c.id))).scalars()
        await engine.dispose()

        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(f"{url}/verify/{credential_id}")
        assert await page.get_by_role("status").inner_text() == (
            "✓ Verified: this credential is authentic and valid"
        )
        assert await page.get_by_text("Taught in French").count() == 1
        assert await page.get_by_role("link", name="Add to LinkedIn profile").count() == 1
        assert await serious_violations(page) == []
        await page.get_by_role("link", name="Français").click()
        await page.wait_for_url("**?lang=fr")
        assert await page.get_by_text("Enseigné en français").count() == 1
        assert await page.locator("html").get_attribute("lang") == "fr"
        assert await serious_violations(page) == []

        revoked = await page.request.post(
            f"{url}/credentials/{credential_id}/revoke",
            data={"reason": "issued in error"},
            headers=tokens("staff"),
        )
        assert revoked.status == 200, await revoked.text()
        await page.goto(f"{url}/verify/{credential_id}?lang=en")
        assert "Not valid" in await page.get_by_role("status").inner_text()
        assert await page.get_by_role("link", name="Add to LinkedIn profile").count() == 0
        assert await serious_violations(page) == []

        unknown = await page.goto(f"{url}/verify/{uuid4()}?lang=en")
        assert unknown is not None and unknown.status == 404
        assert unknown.headers["content-type"].startswith("text/html")
        assert await page.get_by_role("heading", level=1).inner_text() == "Credential not found"
        assert await serious_violations(page) == []
        await page.close()


async def test_the_learner_downloads_their_clr_from_the_learner_page(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    """The page fetches the record from its own origin: the notifier asks the issuer with
    the learner's token (a cross-origin call with a bearer token would be refused)."""
    await empty(database_url, "issuer", issuer_tables.metadata)
    await empty(database_url, "notifier", notifier_tables.metadata)
    issuer_app = create_issuer(
        service_settings(
            IssuerSettings,
            database_url=database_url,
            kafka_bootstrap=kafka_bootstrap,
            tokens=tokens,
            data_dir=tmp_path / "issuer",
            public_url="http://localhost:8004",
        )
    )
    learner = issuer_events.Learner()
    item = issuer_events.micro_credential()
    enrolment = learner.confirmed(item)
    async with served(issuer_app) as issuer_url:
        for event in (item, enrolment, issuer_events.passed(enrolment)):
            await deliver(issuer_app, event)
        notifier_app = create_notifier(
            service_settings(
                NotifierSettings,
                database_url=database_url,
                kafka_bootstrap=kafka_bootstrap,
                tokens=tokens,
                data_dir=tmp_path / "notifier",
                issuer_url=issuer_url,
            )
        )
        async with served(notifier_app) as url:
            page = await browser.new_page()
            await page.goto(f"{url}/learner?lang=en")
            token = tokens("learner", learner.subject)["Authorization"][7:]
            await page.get_by_label("Access token").fill(token)
            await page.get_by_role("button", name="Sign in", exact=True).click()
            await page.locator("#enrolments").wait_for(timeout=10_000)
            async with page.expect_download(timeout=15_000) as downloading:
                await page.locator("#clr").click()
            download = await downloading.value
            saved = tmp_path / "clr.json"
            await download.save_as(saved)
            await page.close()
    record = json.loads(saved.read_text())
    assert "ClrCredential" in record["type"]
    assert record["proof"], "the issuer's signed record, unchanged"
