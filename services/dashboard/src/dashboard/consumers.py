"""Every event of every service: appended to the log, then folded into the read models.

The consumer loop (`credstack.kafka`) runs each handler in one transaction with the
inbox row, so an event is logged exactly once however often the broker delivers it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.clock import now
from credstack.contracts import event_types
from credstack.contracts.envelope import Event, Received, to_cloudevent
from credstack.kafka import Handlers
from dashboard import feed, projections, repository


def cloudevent_of(received: Received, *, summary: str) -> dict[str, Any]:
    """The event as other consumers of the stream get it: a CloudEvent, with `summary`
    (the feed's sentence) as an extension attribute."""
    envelope = to_cloudevent(
        received.event,
        event_id=received.id,
        time=received.time,
        source=received.source,
        traceparent=received.traceparent,
    )
    if received.subject:
        envelope["subject"] = received.subject
    envelope["summary"] = summary
    return envelope


async def record(conn: AsyncConnection, event: Event, received: Received) -> None:
    subjects = projections.subjects_of(event)
    if subjects.offering_id is None or subjects.micro_credential_id is None:
        offering_id, micro_credential_id = await repository.enrolment_subjects(
            conn, subjects.enrolment_id
        )
        subjects = replace(
            subjects,
            offering_id=subjects.offering_id or offering_id,
            micro_credential_id=subjects.micro_credential_id or micro_credential_id,
        )
    if (change := projections.offering_change(event)) is not None:
        await repository.apply_offering_change(conn, change, now=now())
    if (enrolment := projections.enrolment_change(event)) is not None:
        await repository.apply_enrolment_change(conn, enrolment)
    if (declaration := projections.declaration_accepted(event)) is not None:
        await repository.record_declaration(conn, *declaration)
    if (status := projections.credential_status_change(event)) is not None:
        await repository.set_credential_status(conn, *status)
    summary = feed.describe(
        event, offering=await repository.offering_label(conn, subjects.offering_id)
    )
    await repository.append(
        conn,
        event_id=received.id,
        type=received.type,
        time=received.time,
        subjects=subjects,
        summary=summary,
        cloudevent=cloudevent_of(received, summary=summary),
        now=now(),
    )


def handlers() -> Handlers:
    """The same handler for every registered event type except learners' contact details
    (the contact topics are read only by the services that need addresses and names)."""
    return dict.fromkeys((t for t in event_types().values() if not t.contact_data), record)
