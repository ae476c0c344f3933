"""`GET /stream`: the platform's events as Server-Sent Events; `POST /stream/tickets`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from credstack.clock import now
from credstack.contracts import event_types
from credstack.refusals import Reason, Refusal
from dashboard import stream, tickets
from dashboard.api.deps import FollowerDep, SettingsDep, Staff, Subscriber
from dashboard.repository import Filters

router = APIRouter(tags=["stream"])


class UnknownEventType(Refusal):
    code = "unknown-event-type"
    reason = Reason.MALFORMED


class MalformedEventId(Refusal):
    code = "malformed-event-id"
    reason = Reason.MALFORMED


class StreamTicket(BaseModel):
    ticket: str = Field(description="Pass as `?ticket=` to GET /stream")
    expires_at: datetime
    stream_url: str


@router.post(
    "/stream/tickets", response_model=StreamTicket, summary="Buy a short-lived stream ticket"
)
async def issue_ticket(principal: Staff, settings: SettingsDep) -> StreamTicket:
    """For browsers, whose EventSource cannot send a bearer token. A ticket opens (and
    reopens) the stream until it expires; ask for a new one to reconnect after that."""
    token, ticket = tickets.issue(
        settings.ticket_secret(),
        subject=principal.subject,
        scopes=principal.scopes,
        now=now(),
        seconds=settings.stream_ticket_seconds,
    )
    return StreamTicket(
        ticket=token, expires_at=ticket.expires_at, stream_url=f"/stream?ticket={token}"
    )


def event_type_names(names: list[str]) -> frozenset[str]:
    """Full CloudEvents types, from full types or short names (`EnrolmentConfirmed`)."""
    known = event_types()
    short = {model.__name__: name for name, model in known.items()}
    found = set()
    for requested in (n.strip() for value in names for n in value.split(",")):
        if not requested:
            continue
        if requested in known:
            found.add(requested)
        elif requested in short:
            found.add(short[requested])
        else:
            raise UnknownEventType(f"No event type {requested!r}.", known=sorted(short))
    return frozenset(found)


def _position(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) >= 2**63:
        raise MalformedEventId("An event id is the decimal log position the stream sent.")
    return int(value)


@router.get(
    "/stream",
    summary="The platform's events, live (text/event-stream)",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-Sent Events: each `data` is a CloudEvent (docs/dashboard.md)",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def subscribe(
    follower: FollowerDep,
    settings: SettingsDep,
    _: Subscriber,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=20)
    ] = None,
    last_event_id: Annotated[str | None, Query(alias="lastEventId", max_length=20)] = None,
    type: Annotated[list[str], Query(description="Event types (full or short names)")] = [],  # noqa: B006
    micro_credential_id: UUID | None = None,
    offering_id: UUID | None = None,
    learner_id: UUID | None = None,
) -> EventSourceResponse:
    """Each event is a CloudEvent (JSON) whose SSE `id` is its log position. Resume with
    `Last-Event-ID` (browsers send it on reconnect) or `?lastEventId=`: the stream
    continues with the next event after that id, nothing lost and nothing repeated.
    Without either, it starts with the next new event; `lastEventId=0` replays the
    whole log kept. A cursor older than the log keeps gets a `reset` event first."""
    start_after = (
        _position(last_event_id_header) if last_event_id_header else _position(last_event_id)
    )
    filters = Filters(
        types=event_type_names(type),
        micro_credential_id=micro_credential_id,
        offering_id=offering_id,
        learner_id=learner_id,
    )
    return EventSourceResponse(
        stream.events(
            follower,
            start_after=start_after,
            filters=filters,
            wake_seconds=settings.stream_heartbeat_seconds,
        ),
        ping=int(max(1, settings.stream_heartbeat_seconds)),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
