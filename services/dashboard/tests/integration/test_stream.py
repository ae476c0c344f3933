"""The stream at the HTTP level: resume after any disconnect, across restarts and replicas."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import httpx
from fastapi import FastAPI

from credstack.contracts import assessment, enrolment
from credstack.testing import Tokens, deliver, migrate_once, truncate
from dashboard import repository, tables
from dashboard.main import create_app
from dashboard.settings import Settings

from .sse import Message, read, served


def grade(enrolment_id: UUID | None = None) -> assessment.GradeRecorded:
    return assessment.GradeRecorded(
        enrolment_id=enrolment_id or uuid4(),
        score=Decimal(random.randint(0, 100)),
        source="moodle",
        recorded_at=datetime.now(UTC),
    )


async def fresh_app(settings: Settings, *, empty: bool = False) -> FastAPI:
    await asyncio.to_thread(migrate_once, settings.database_url, "dashboard")
    app = create_app(settings)
    if empty:
        await truncate(settings.database_url, tables.metadata)
    return app


async def deliver_all(app: FastAPI, count: int) -> list[UUID]:
    ids = []
    for _ in range(count):
        event_id = uuid4()
        assert await deliver(app, grade(), event_id=event_id) == "applied"
        ids.append(event_id)
    return ids


def ids_of(messages: list[Message]) -> list[UUID]:
    return [UUID(m.cloudevent["id"]) for m in messages]


async def read_all_with_drops(
    urls: list[str], *, total: int, headers: dict[str, str], start_after: int = 0
) -> list[Message]:
    """Read `total` events, dropping the connection at random points and resuming each
    time with the last id seen, on one of `urls` (replicas) chosen at random."""
    got: list[Message] = []
    last = start_after
    while len(got) < total:
        take = random.randint(1, max(1, min(15, total - len(got))))
        part = await read(
            random.choice(urls), count=take, headers={**headers, "Last-Event-ID": str(last)}
        )
        got.extend(part)
        last = int(part[-1].id or 0)
    return got


def assert_exactly_once_in_order(messages: list[Message], expected: list[UUID]) -> None:
    positions = [int(m.id or 0) for m in messages]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert ids_of(messages) == expected


async def test_a_client_that_drops_at_random_points_gets_every_event_once_in_order(
    dashboard_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    app = await fresh_app(dashboard_settings(), empty=True)
    async with served(app) as url:
        first = await deliver_all(app, 40)
        later = asyncio.create_task(deliver_all(app, 40))  # more arrive while it reads
        got = await read_all_with_drops([url], total=80, headers=tokens("staff"))
        assert_exactly_once_in_order(got, first + await later)


async def test_the_stream_resumes_after_a_restart_of_the_dashboard(
    dashboard_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    settings = dashboard_settings()
    app = await fresh_app(settings, empty=True)
    async with served(app) as url:
        before = await deliver_all(app, 20)
        got = await read(url, count=7, headers={**tokens("staff"), "Last-Event-ID": "0"})
    restarted = await fresh_app(settings)
    async with served(restarted) as url:
        after = await deliver_all(restarted, 20)
        got += await read_all_with_drops(
            [url], total=33, headers=tokens("staff"), start_after=int(got[-1].id or 0)
        )
    assert_exactly_once_in_order(got, before + after)


async def test_two_replicas_on_one_database_serve_one_stream(
    dashboard_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    settings = dashboard_settings(stream_buffer_size=10)  # small: catch-up reads the database
    first, second = await fresh_app(settings, empty=True), await fresh_app(settings)
    async with served(first) as one, served(second) as two:

        async def write_to_both() -> list[UUID]:
            ids = []
            for i in range(60):
                app = first if i % 2 else second
                event_id = uuid4()
                await deliver(app, grade(), event_id=event_id)
                ids.append(event_id)
            return ids

        writing = asyncio.create_task(write_to_both())
        got = await read_all_with_drops([one, two], total=60, headers=tokens("staff"))
        assert_exactly_once_in_order(got, await writing)


async def test_a_redelivered_event_is_logged_once(dashboard: object, tokens: Tokens) -> None:
    from credstack.testing import ServiceUnderTest

    assert isinstance(dashboard, ServiceUnderTest)
    event_id = uuid4()
    assert await deliver(dashboard.app, grade(), event_id=event_id) == "applied"
    assert await deliver(dashboard.app, grade(), event_id=event_id) == "duplicate"
    async with dashboard.engine.connect() as conn:
        assert await repository.head(conn) == 1


async def test_a_cursor_older_than_the_log_keeps_gets_a_reset_first(
    dashboard_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    app = await fresh_app(dashboard_settings(), empty=True)
    async with served(app) as url:
        await deliver_all(app, 5)
        async with app.state.engine.begin() as conn:
            now = datetime.now(UTC)
            assert await repository.prune(conn, older_than=now + timedelta(seconds=1), now=now) == 5
        kept = await deliver_all(app, 3)
        got = await read(url, count=4, headers={**tokens("staff"), "Last-Event-ID": "2"})
    assert got[0].event == "reset" and got[0].id == "5"
    assert ids_of(got[1:]) == kept


async def test_filters_pass_only_matching_events(
    dashboard_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    app = await fresh_app(dashboard_settings(), empty=True)
    learner, offering, mine = uuid4(), uuid4(), uuid4()
    async with served(app) as url:
        await deliver(
            app,
            enrolment.EnrolmentRequested(
                enrolment_id=mine,
                learner_id=learner,
                offering_id=offering,
                micro_credential_id=uuid4(),
                micro_credential_version=1,
                requested_at=datetime.now(UTC),
            ),
        )
        await deliver_all(app, 5)
        await deliver(app, grade(mine))  # no offering in the event: found from the enrolment
        got = await read(
            url,
            count=2,
            headers=tokens("staff"),
            params={"lastEventId": "0", "offering_id": str(offering)},
        )
        assert [m.cloudevent["type"] for m in got] == [
            "credstack.enrolment.EnrolmentRequested.v1",
            "credstack.assessment.GradeRecorded.v1",
        ]
        typed = await read(
            url,
            count=1,
            headers=tokens("staff"),
            params={"lastEventId": "0", "type": "GradeRecorded"},
        )
        assert typed[0].cloudevent["type"] == "credstack.assessment.GradeRecorded.v1"
        assert "summary" in typed[0].cloudevent


async def test_a_browser_opens_the_stream_with_a_ticket_bought_by_a_staff_token(
    dashboard_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    app = await fresh_app(dashboard_settings(), empty=True)
    async with served(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/stream")).status_code == 401
            assert (await http.get("/stream", headers=tokens("learner"))).status_code == 403
            assert (await http.get("/stream", params={"ticket": "forged.x"})).status_code == 401
            refused = await http.post("/stream/tickets", headers=tokens("approver"))
            assert refused.status_code == 403
            ticket = (await http.post("/stream/tickets", headers=tokens("staff"))).json()
        sent = await deliver_all(app, 2)
        got = await read(
            url, count=2, headers={}, params={"ticket": ticket["ticket"], "lastEventId": "0"}
        )
        assert ids_of(got) == sent
