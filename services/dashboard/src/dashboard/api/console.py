"""The console's read models: feed, funnels, latency, and what needs attention."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, Field

from credstack.clock import now
from credstack.service import Engine
from dashboard import repository
from dashboard.api.deps import SettingsDep, Staff, Token
from dashboard.settings import Settings

router = APIRouter(prefix="/console", tags=["console"])


class FeedItem(BaseModel):
    position: int
    type: str
    time: str
    summary: str


class FunnelView(BaseModel):
    offering_id: UUID
    code: str
    title: str
    starts_on: str | None
    status: str
    counts: dict[str, int] = Field(description="interested, enrolled, paid, graded, passed, ...")
    daily: list[dict[str, Any]] = Field(description="Per day: paid, passed, issued")


class LatencyView(BaseModel):
    window_hours: int
    count: int
    p50_seconds: float | None
    p95_seconds: float | None


class Overview(BaseModel):
    head: int = Field(description="The newest log position: open the stream after it")
    feed: list[FeedItem]
    funnels: list[FunnelView]
    latency: LatencyView


def feed_item(entry: repository.LogEntry) -> FeedItem:
    event = entry.cloudevent
    return FeedItem(
        position=entry.position,
        type=entry.type,
        time=str(event.get("time", "")),
        summary=str(event.get("summary", "")),
    )


@router.get(
    "/overview", response_model=Overview, summary="Feed, funnels and latency, from the read models"
)
async def overview(engine: Engine, _: Staff, feed_size: int = 30, days: int = 14) -> Overview:
    feed_size, days = max(1, min(feed_size, 200)), max(1, min(days, 90))
    at = now()
    async with engine.connect() as conn:
        head = await repository.head(conn)
        feed = await repository.latest_entries(conn, limit=feed_size)
        funnels = await repository.funnels(conn, days=days, now=at)
        latency = await repository.issuance_latency(conn, since=at - timedelta(hours=24))
    return Overview(
        head=max([head, *(e.position for e in feed)]),
        feed=[feed_item(e) for e in feed],
        funnels=[FunnelView(**f.__dict__) for f in funnels],
        latency=LatencyView(window_hours=24, **latency.__dict__),
    )


class AttentionItem(BaseModel):
    kind: str = Field(
        description="awaiting-approval, review-due, quarantined-grade, parked-event, "
        "moodle-fetch-failing, awaiting-payment, payment-failed, seat-offer-lapsing, "
        "credential-overdue"
    )
    service: str
    title: str
    detail: str = ""
    since: datetime | None = None
    ids: dict[str, str] = Field(default_factory=dict, description="What the actions need")
    actions: list[str] = Field(default_factory=list)


class Attention(BaseModel):
    items: list[AttentionItem]
    unavailable: list[str] = Field(description="Services that could not be asked just now")


WAITING_TITLES = {
    "credential-overdue": "Passed, but no credential yet",
    "seat-offer-lapsing": "Waitlist seat offer open",
    "payment-failed": "Payment failed",
    "awaiting-payment": "Enrolment awaiting payment",
}


async def _ask(client: httpx.AsyncClient, url: str, token: str) -> Any:
    response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


def _parked(service: str, answer: Any) -> list[AttentionItem]:
    return [
        AttentionItem(
            kind="parked-event",
            service=service,
            title=f"Parked event in {service}",
            detail=str(parked.get("error", ""))[:300],
            since=parked.get("parked_at"),
            ids={"service": service, "parked_id": str(parked["id"])},
            actions=["replay"],
        )
        for parked in answer.get("items", [])
        if not parked.get("replayed_at")
    ]


def _quarantined(answer: Any) -> list[AttentionItem]:
    return [
        AttentionItem(
            kind="quarantined-grade",
            service="assessment",
            title="Quarantined grade from " + str(grade.get("client_id") or grade.get("source")),
            detail=str(grade.get("note", "")),
            since=grade.get("received_at"),
            ids={"grade_id": str(grade["id"])},
            actions=["assign", "dismiss"],
        )
        for grade in answer.get("items", [])
    ]


def _approvals(answer: Any) -> list[AttentionItem]:
    return [
        AttentionItem(
            kind="awaiting-approval",
            service="catalogue",
            title=f"Awaiting approval: {item.get('code')} {item.get('title')}",
            detail=f"version {item.get('version')}, submitted for approval",
            ids={"code": str(item.get("code"))},
            actions=["approve-and-publish"],
        )
        for item in answer.get("items", [])
    ]


def _moodle(answer: Any) -> list[AttentionItem]:
    return [
        AttentionItem(
            kind="moodle-fetch-failing",
            service="assessment",
            title=f"Moodle grade fetch failing ({fetch.get('client_id')})",
            detail=f"{fetch.get('attempts')} attempts; last error: "
            + str(fetch.get("last_error"))[:300],
            since=fetch.get("received_at"),
            ids={"client_id": str(fetch.get("client_id")), "fetch_id": str(fetch["id"])},
            actions=[],
        )
        for fetch in answer.get("items", [])
    ]


def _reviews(answer: Any) -> list[AttentionItem]:
    return [
        AttentionItem(
            kind="review-due",
            service="catalogue",
            title=f"Annual review due: {item.get('code')} {item.get('title')}",
            detail=f"due {item.get('review_due_on')}",
            ids={"code": str(item.get("code"))},
            actions=[],
        )
        for item in (answer if isinstance(answer, list) else answer.get("items", []))
    ]


async def _remote_items(settings: Settings, token: str) -> tuple[list[AttentionItem], list[str]]:
    """What the other services hold for staff, asked of each at once; the names of those
    that did not answer."""
    urls = settings.service_urls()
    asks: dict[str, tuple[str, Callable[[Any], list[AttentionItem]]]] = {
        **{
            service: (f"{url}/admin/parked-events?limit=50", functools.partial(_parked, service))
            for service, url in urls.items()
        },
        "quarantined": (f"{urls['assessment']}/quarantined-grades?limit=50", _quarantined),
        "reviews": (f"{urls['catalogue']}/reviews-due", _reviews),
        "approvals": (f"{urls['catalogue']}/awaiting-approval?limit=50", _approvals),
        "moodle": (f"{urls['assessment']}/moodle-fetches?failing=true&limit=50", _moodle),
    }
    async with httpx.AsyncClient(timeout=settings.service_timeout_seconds) as client:
        answers = await asyncio.gather(
            *(_ask(client, url, token) for url, _ in asks.values()), return_exceptions=True
        )
    items: list[AttentionItem] = []
    unavailable: set[str] = set()
    for (name, (_, convert)), answer in zip(asks.items(), answers, strict=True):
        if isinstance(answer, BaseException):
            unavailable.add(name)
        else:
            items.extend(convert(answer))
    return items, sorted(unavailable)


@router.get(
    "/attention", response_model=Attention, summary="What needs a staff member, with its actions"
)
async def attention(engine: Engine, settings: SettingsDep, token: Token) -> Attention:
    """Waiting enrolments and overdue credentials from the read models; parked events,
    quarantined grades and reviews due asked of their services with the caller's token."""
    async with engine.connect() as conn:
        waiting = await repository.waiting_enrolments(
            conn, now=now(), overdue_after=timedelta(minutes=settings.credential_overdue_minutes)
        )
    items = [
        AttentionItem(
            kind=w.kind,
            service="enrolment" if w.kind != "credential-overdue" else "issuer",
            title=WAITING_TITLES[w.kind],
            detail=f"enrolment {w.enrolment_id}",
            since=w.since,
            ids={"enrolment_id": str(w.enrolment_id)},
            actions=["withdraw"] if w.kind != "credential-overdue" else [],
        )
        for w in waiting
    ]
    remote, unavailable = await _remote_items(settings, token)
    return Attention(items=remote + items, unavailable=unavailable)


class CredentialRow(BaseModel):
    credential_id: UUID
    enrolment_id: UUID
    offering_id: UUID | None
    status: str | None
    issued_at: datetime | None


@router.get(
    "/credentials", response_model=list[CredentialRow], summary="Recently issued credentials"
)
async def credentials(engine: Engine, _: Staff) -> list[CredentialRow]:
    async with engine.connect() as conn:
        rows = await repository.recent_credentials(conn)
    return [
        CredentialRow(
            credential_id=r.credential_id,
            enrolment_id=r.enrolment_id,
            offering_id=r.offering_id,
            status=r.credential_status,
            issued_at=r.credential_issued_at,
        )
        for r in rows
    ]
