"""The public website, served from another origin, calls the catalogue's search API from
the browser (headless Chromium): CORS with a preflight, as a real website would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from catalogue import tables as catalogue_tables
from catalogue.main import create_app as create_catalogue
from catalogue.settings import Settings as CatalogueSettings
from credstack import engines
from credstack.testing import Tokens, migrate_once, service_settings, truncate

from .conftest import served

WEBSITE = """<!doctype html><html><body><ul id="results"></ul><p id="status">…</p>
<script>
async function search(api) {
  // A JSON Accept-Language plus Content-Type makes this a non-simple request: preflighted.
  const answer = await fetch(api + "/micro-credentials?q=data&page_size=5", {
    headers: {"Content-Type": "application/json", "Accept-Language": "en"}});
  const body = await answer.json();
  for (const hit of body.items) {
    const li = document.createElement("li"); li.textContent = hit.code + " " + hit.title;
    document.getElementById("results").appendChild(li);
  }
  document.getElementById("status").textContent = "found " + body.items.length;
}
search(new URLSearchParams(location.search).get("api"))
  .catch(e => { document.getElementById("status").textContent = "blocked: " + e; });
</script></body></html>"""


def website() -> Starlette:
    async def index(_: Any) -> HTMLResponse:
        return HTMLResponse(WEBSITE)

    return Starlette(routes=[Route("/", index)])


async def test_a_page_on_another_origin_searches_the_catalogue(
    browser: Any, database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> None:
    settings = service_settings(
        CatalogueSettings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        load_sample_catalogue=True,
        cors_origins=["https://www.university.example"],
    )
    await asyncio.to_thread(migrate_once, database_url, "catalogue")
    await truncate(database_url, catalogue_tables.metadata)
    site_port = engines.free_port()
    async with served(create_catalogue(settings)) as api, served(website(), site_port):
        page = await browser.new_page()
        # http://localhost:<port> is another origin than the API's http://127.0.0.1:<port>;
        # the dev stack allows a locally developed website on any port.
        await page.goto(f"http://localhost:{site_port}/?api={api}")
        await page.wait_for_selector("#status:has-text('found')", timeout=15_000)
        shown = await page.locator("#results li").all_inner_texts()
        assert any(text.startswith("MC-DA-01 ") for text in shown), shown

        async with httpx.AsyncClient(base_url=api) as http:
            preflight = await http.options(
                "/micro-credentials",
                headers={
                    "Origin": "https://www.university.example",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            stranger = await http.options(
                "/micro-credentials",
                headers={
                    "Origin": "https://elsewhere.example",
                    "Access-Control-Request-Method": "GET",
                },
            )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://www.university.example"
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers
        await page.close()
