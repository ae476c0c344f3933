"""The open dashboard page follows a learner's journey through the other services.

The whole platform runs as separate processes (the dev stack, as in tests/journeys) on
the test engines; each step of the demo journey must show up on the page, having
travelled service → outbox → broker → dashboard → SSE, within a second of the step.
"""

from __future__ import annotations

import asyncio
import queue
import re
import threading
import time
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from credstack import devauth, devstack
from credstack.demo import Journey

# The step the journey announces (its `say` line) → the event types it causes.
STEP_EVENTS = {
    "2.": ["credstack.catalogue.MicroCredentialPublished.v1"],
    "3.": ["credstack.catalogue.OfferingScheduled.v1"],
    "4.": ["credstack.enrolment.EnrolmentRequested.v1"],
    "5.": ["credstack.enrolment.EnrolmentConfirmed.v1"],
    "6.": ["credstack.assessment.GradeRecorded.v1", "credstack.assessment.AssessmentPassed.v1"],
    "7.": ["credstack.issuer.CredentialIssued.v1"],
}
PER_STEP_SECONDS = 1.0


async def test_a_journey_through_the_services_appears_on_the_open_page_step_by_step(
    browser: Any, stack: devstack.Stack
) -> None:
    key = devauth.signing_key(Path(stack.data_dir))
    # A freshly started stack's consumers are still joining their groups (the first event
    # can wait seconds for an assignment): one untimed journey first, as a running platform
    # has had; the timed one measures the steady state.
    urls = {s: stack.url(s) for s in devstack.SERVICES}
    await asyncio.to_thread(Journey(urls=urls, signing_key=key).run)
    # The stack serves https with its own dev CA (as `./dev up --https`), which this
    # Chromium profile does not trust; the page's TLS is not what this test checks.
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, ignore_https_errors=True
    )
    page = await context.new_page()
    await page.goto(stack.url("dashboard") + "/")
    await page.get_by_label("Staff token").fill(devauth.mint(key, role="staff", subject="desk"))
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_selector("#connection.live", timeout=15_000)

    # The journey runs in a thread and waits after each step until the page was checked.
    steps: queue.Queue[str | None] = queue.Queue()
    checked = threading.Event()

    def say(line: str) -> None:
        checked.clear()
        steps.put(line)
        checked.wait(30)

    journey = Journey(urls=urls, signing_key=key, say=say)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = journey.run()
        except BaseException as error:  # surfaced below
            outcome["error"] = error
        finally:
            steps.put(None)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    code = None
    delays: dict[str, float] = {}
    try:
        while (line := await asyncio.to_thread(steps.get, True, 120)) is not None:
            said_at = time.monotonic()
            if code is None and (found := re.search(r"MC-DEMO-[0-9A-F]{6}", line)):
                code = found.group(0)
            step = line.split(" ", 1)[0]
            for event_type in STEP_EVENTS.get(step, []):
                # This journey's event (its summary names the code), not an earlier one's.
                left = PER_STEP_SECONDS - (time.monotonic() - said_at)
                await page.wait_for_selector(
                    f'#feed li[data-type="{event_type}"]:has-text("{code}")',
                    timeout=max(1.0, left * 1000),
                )
            delays[step] = time.monotonic() - said_at
            checked.set()
    finally:
        checked.set()
        runner.join(60)
    if "error" in outcome:
        raise outcome["error"]
    assert set(delays) >= set(STEP_EVENTS), delays
    assert all(delay <= PER_STEP_SECONDS + 0.2 for delay in delays.values()), delays
    # The funnel of the journey's offering, from the read models, counts the whole way,
    # the integrity declaration (IntegrityDeclarationAccepted) included.
    offering = page.locator(f"article.offering:has-text('{code}')")
    for stage in ("enrolled", "paid", "declaration_accepted", "graded", "passed"):
        # A locator, not an element handle: the page redraws the funnel on each refresh.
        await expect(offering.locator(f'[data-stage="{stage}"]')).to_have_text("1", timeout=5_000)
    await context.close()
