"""Every service's audit routes: `GET /admin/audit` (a page, newest first) and
`GET /admin/audit/export` (the whole selection as CSV or JSON Lines, oldest first, streamed).

Both take the same filters (actor, action, target, since/until) and need `platform:operate`,
the scope every staff token carries. `credstack.service.create_app` includes `router` in
every service; the routes read the service's own log from its `ServiceDefinition.audit`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.audit import AuditEntry, AuditLog, StaffAction
from credstack.auth import Principal, require
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of

EXPORT_BATCH = 500
COLUMNS = [
    "id",
    "at",
    "actor",
    "actor_roles",
    "action",
    "target_type",
    "target_id",
    "reason",
    "details",
    "trace_id",
]


async def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


Engine = Annotated[AsyncEngine, Depends(_engine)]


class AuditRecord(AuditEntry):
    id: int


class AuditFilter(BaseModel):
    actor: str | None = None
    action: StaffAction | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def _filter(
    actor: Annotated[str | None, Query(max_length=500, description="The staff subject")] = None,
    action: Annotated[StaffAction | None, Query(description="One kind of action")] = None,
    target_type: Annotated[
        str | None, Query(max_length=100, description="e.g. credential, enrolment")
    ] = None,
    target_id: Annotated[str | None, Query(max_length=500)] = None,
    since: Annotated[datetime | None, Query(description="At or after this instant")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
    )


Filter = Annotated[AuditFilter, Depends(_filter)]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


MEDIA_TYPES = {ExportFormat.CSV: "text/csv", ExportFormat.JSONL: "application/jsonl"}


def _selection(log: AuditLog, chosen: AuditFilter) -> Select[Any]:
    t = log.table
    query = select(t)
    for column, value in (
        (t.c.actor, chosen.actor),
        (t.c.action, chosen.action and chosen.action.value),
        (t.c.target_type, chosen.target_type),
        (t.c.target_id, chosen.target_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if chosen.since is not None:
        query = query.where(t.c.at >= chosen.since)
    if chosen.until is not None:
        query = query.where(t.c.at < chosen.until)
    return query


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: no leading = + - @ taken for a formula."""
    if value is None:
        return ""
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    shown = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"'{shown}" if shown[:1] in ("=", "+", "-", "@", "\t", "\r") else shown


def _csv_line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_cell(v) for v in values])
    return buffer.getvalue()


async def _audit_log(request: Request) -> AuditLog:
    log: AuditLog = request.app.state.definition.audit
    return log


Log = Annotated[AuditLog, Depends(_audit_log)]

router = APIRouter(tags=["audit"])


@router.get(
    "/admin/audit",
    response_model=Page[AuditRecord],
    summary="Staff actions recorded by this service, newest first",
)
async def list_audit(
    engine: Engine,
    log: Log,
    chosen: Filter,
    _: Principal = require("platform:operate"),
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[AuditRecord]:
    t = log.table
    query = _selection(log, chosen).order_by(t.c.id.desc()).limit(limit + 1)
    if cursor is not None:
        (before,) = decode_cursor(cursor, int)
        query = query.where(t.c.id < before)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return page_of([AuditRecord(**row._mapping) for row in rows], limit, lambda r: (r.id,))


async def _lines(
    engine: AsyncEngine, log: AuditLog, query: Select[Any], as_: ExportFormat
) -> AsyncIterator[str]:
    """The export's lines, read in batches, each batch its own short read."""
    if as_ is ExportFormat.CSV:
        yield _csv_line(list(COLUMNS))
    after = 0
    while True:
        async with engine.connect() as conn:
            batch = (
                await conn.execute(query.where(log.table.c.id > after).limit(EXPORT_BATCH))
            ).all()
        for row in batch:
            if as_ is ExportFormat.CSV:
                yield _csv_line([row._mapping[c] for c in COLUMNS])
            else:
                yield AuditRecord(**row._mapping).model_dump_json() + "\n"
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1].id


@router.get(
    "/admin/audit/export",
    summary="Every staff action selected, oldest first, as CSV or JSON Lines (streamed)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One header line then one line per action (CSV), or one JSON "
            "object per line, each an `AuditRecord` (JSON Lines)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/jsonl": {"schema": {"type": "string"}},
            },
        }
    },
)
async def export_audit(
    engine: Engine,
    log: Log,
    chosen: Filter,
    _: Principal = require("platform:operate"),
    as_: Annotated[
        ExportFormat, Query(alias="format", description="csv or jsonl")
    ] = ExportFormat.CSV,
) -> StreamingResponse:
    query = _selection(log, chosen).order_by(log.table.c.id)
    extension = "csv" if as_ is ExportFormat.CSV else "jsonl"
    return StreamingResponse(
        _lines(engine, log, query, as_),
        media_type=MEDIA_TYPES[as_],
        headers={"Content-Disposition": f'attachment; filename="audit.{extension}"'},
    )
