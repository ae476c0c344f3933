"""The verification page in headless Chromium with a wallet claim: the QR code is shown,
scannable (it decodes to the claim's interaction URL), and gone once the claim is used.

``ISSUER_SCREENSHOTS=1`` saves the screenshots docs/issuer.md shows
(docs/issuer-claim-qr.png, docs/issuer-claim-qr-phone.png)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from credstack import engines
from credstack.testing import REPO, Tokens, deliver, migrate_once, service_settings, truncate
from issuer import tables
from issuer.main import create_app
from issuer.settings import Settings
from services.issuer.tests.events import Learner, micro_credential, passed

from .conftest import served

SCREENSHOTS = os.environ.get("ISSUER_SCREENSHOTS") == "1"


async def test_the_verification_page_shows_the_claim_qr_until_it_is_used(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    port = engines.free_port()
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url=f"http://127.0.0.1:{port}",
    )
    await asyncio.to_thread(migrate_once, settings.database_url, "issuer")
    app = create_app(settings)
    async with served(app, port) as base, httpx.AsyncClient(base_url=base) as http:
        await truncate(settings.database_url, tables.metadata)
        ada = Learner(name="Ada Lovelace")
        item = micro_credential()
        confirmed = ada.confirmed(item)
        for event in (item, confirmed, passed(confirmed)):
            await deliver(app, event)
        async with app.state.engine.connect() as conn:
            [row] = (await conn.execute(select(tables.credential))).all()
        made = (
            await http.post(
                f"/learners/me/credentials/{row.id}/claims",
                headers=tokens("learner", ada.subject),
            )
        ).json()

        page = await browser.new_page(viewport={"width": 1000, "height": 900})
        await page.goto(made["page_url"])
        section = page.locator("#wallet")
        await section.wait_for()
        assert await section.locator("svg").count() == 1
        assert made["interaction_url"] in await section.inner_text()
        if SCREENSHOTS:
            await section.scroll_into_view_if_needed()
            await page.screenshot(path=str(REPO / "docs" / "issuer-claim-qr.png"), full_page=True)
            phone = await browser.new_page(viewport={"width": 390, "height": 844})
            await phone.goto(made["page_url"])
            await phone.locator("#wallet").scroll_into_view_if_needed()
            await phone.screenshot(path=str(REPO / "docs" / "issuer-claim-qr-phone.png"))
            await phone.close()

        # the wallet takes the claim: the page no longer offers it
        asked = (await http.post(made["exchange_url"].removeprefix(base), json={})).json()
        assert asked["verifiablePresentationRequest"]["challenge"]
        async with app.state.engine.begin() as conn:
            await conn.execute(tables.claim.update().values(claimed_at=datetime.now(UTC)))
        await page.goto(made["page_url"])
        assert await page.locator("#wallet").count() == 0
        await page.close()
