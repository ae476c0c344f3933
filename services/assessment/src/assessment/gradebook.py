"""Moodle's gradebook, read through its REST web service, and the fetch of a notified grade.

A `user_graded` notification is kept first; the grade is then fetched at once and, if
Moodle cannot be reached or answers with an error, again by the retry worker with
backoff until it succeeds: a notification is never lost. The web service token of each
Moodle client is configuration (`ASSESSMENT_MOODLE_WS_TOKENS`), never stored or shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from assessment import repository
from assessment.formats.moodle import GRADE_ITEMS_FUNCTION, GradedUser, MoodleError, grades
from assessment.usecases import moodle
from assessment.usecases.intake import Receipt
from credstack.clock import now

log = structlog.get_logger()


class MoodleUnavailable(Exception):
    """Moodle could not be asked (network, HTTP error, no token configured)."""


class Gradebook(Protocol):
    async def grade_items(
        self, site_url: str, client_id: str, *, course_id: int, user_id: int
    ) -> Any: ...


class MoodleWebService:
    """`gradereport_user_get_grade_items` over Moodle's REST protocol (JSON format)."""

    def __init__(self, tokens: Mapping[str, str], *, timeout_seconds: float = 10.0) -> None:
        self.tokens = tokens
        self.timeout_seconds = timeout_seconds

    async def grade_items(
        self, site_url: str, client_id: str, *, course_id: int, user_id: int
    ) -> Any:
        token = self.tokens.get(client_id)
        if token is None:
            raise MoodleUnavailable(
                f"No web service token is configured for Moodle client {client_id} "
                "(ASSESSMENT_MOODLE_WS_TOKENS)."
            )
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as http:
                response = await http.post(
                    f"{site_url.rstrip('/')}/webservice/rest/server.php",
                    data={
                        "wstoken": token,
                        "wsfunction": GRADE_ITEMS_FUNCTION,
                        "moodlewsrestformat": "json",
                        "courseid": str(course_id),
                        "userid": str(user_id),
                    },
                )
                response.raise_for_status()
        except httpx.HTTPError as error:
            raise MoodleUnavailable(f"Moodle at {site_url}: {error!r}") from error
        try:
            return response.json()
        except ValueError as error:
            raise MoodleError(f"Moodle at {site_url} answered with something not JSON.") from error


async def fetch(
    engine: AsyncEngine, gradebook: Gradebook, notification_id: int
) -> list[Receipt] | None:
    """Fetch and record the grade a kept notification announced.

    Returns the receipts, or None if the grade could not be fetched (a retry is then
    scheduled) or was already fetched by another attempt.
    """
    async with engine.connect() as conn:
        notification = await moodle.pending(conn, notification_id)
        client = await repository.client(conn, notification.client_id) if notification else None
    if notification is None or client is None:
        return None
    graded = GradedUser(
        course_id=notification.course_id,
        user_id=notification.user_id,
        item_id=notification.item_id,
        notified_at=notification.notified_at,
        delivery_id=notification.delivery_id,
    )
    try:
        response = await gradebook.grade_items(
            client.moodle_url or "",
            client.id,
            course_id=graded.course_id,
            user_id=graded.user_id,
        )
        submissions = grades(response, graded)
    except (MoodleUnavailable, MoodleError) as error:
        log.warning("moodle.fetch_failed", notification_id=notification_id, error=str(error))
        async with engine.begin() as conn:
            await moodle.fetch_failed(conn, notification_id, str(error), now=now())
        return None
    async with engine.begin() as conn:
        return await moodle.fetched(conn, client, notification_id, submissions, now=now())


async def retry_pending(app: FastAPI) -> None:
    """The worker that fetches, with backoff, the grades Moodle could not give at once."""
    engine: AsyncEngine = app.state.engine
    interval: float = app.state.settings.moodle_retry_poll_seconds
    while True:
        async with engine.connect() as conn:
            due = await moodle.due(conn, now=now())
        for notification_id in due:
            await fetch(engine, app.state.gradebook, notification_id)
        await asyncio.sleep(interval)
