"""Staff bulk import and export of the catalogue (CSV or JSON)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from catalogue import bulk, repository, usecases
from catalogue.api import Staff, audit
from catalogue.views import MicroCredentialDraft
from credstack.audit import StaffAction
from credstack.auth import Principal
from credstack.clock import now
from credstack.problems import Problem
from credstack.refusals import Reason, Refusal
from credstack.service import Engine

router = APIRouter(tags=["bulk"])

MEDIA_TYPES = {"text/csv": "text/csv", "application/json": "application/json"}


class RowReport(BaseModel):
    row: int
    code: str
    status: Literal["ok", "error"]
    errors: list[str]


class ImportReport(BaseModel):
    imported: int
    failed: int
    rows: list[RowReport]


class UnreadableFile(Refusal):
    code = "unreadable-file"
    reason = Reason.MALFORMED


class EmptyImport(Refusal):
    code = "empty-import"
    reason = Reason.UNPROCESSABLE


class ImportRefused(Refusal):
    """Some rows are wrong, so none was imported; the facts report every row."""

    code = "import-refused"
    reason = Reason.UNPROCESSABLE
    title = "Import refused"


_PARSING = anyio.Semaphore(2)
AUDITED_CODES = 1000
"""The audit entry of an import names its first codes only (an import may hold 100,000)."""


async def _import(
    request: Request, engine: AsyncEngine, staff: Principal, rows: list[bulk.Row], *, publish: bool
) -> bool:
    """Import every row or none, and record the import, in one transaction."""
    async with engine.begin() as conn:
        imported = await usecases.import_catalogue(
            conn,
            rows,
            publish=publish,
            importer=staff.subject,
            now=now(),
            policy=request.app.state.settings.policy(),
        )
        if imported:
            await audit(
                conn,
                staff,
                StaffAction.CATALOGUE_IMPORT,
                "import",
                kind="catalogue",
                publish=publish,
                rows=len(rows),
                codes=[r.code for r in rows[:AUDITED_CODES]],
            )
    return bool(imported)


@router.post(
    "/imports",
    summary="Import micro-credentials from CSV or JSON: every row or none",
    description=(
        "Each row is validated; the response reports every row's errors. If any row is "
        "wrong nothing is imported (422). `publish=true` (approvers only) imports an "
        "already-approved catalogue as published, checking every policy rule."
    ),
    status_code=201,
    response_model=ImportReport,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}},
        }
    },
)
async def import_catalogue(
    request: Request,
    engine: Engine,
    staff: Staff,
    publish: Annotated[bool, Query()] = False,
) -> ImportReport:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise Problem(415, "unsupported-media-type", "Send text/csv or application/json.")
    if publish and "catalogue:approve" not in staff.scopes:
        raise Problem(403, "insufficient-scope", "Importing as published needs catalogue:approve.")
    body = await request.body()
    try:
        async with _PARSING:  # CPU-bound: off the event loop, a few files at a time
            rows = await anyio.to_thread.run_sync(bulk.read, body, media_type)
    except bulk.UnreadableFile as error:
        raise UnreadableFile(str(error)) from error
    if not rows:
        raise EmptyImport("The file has no rows.")
    imported = await _import(request, engine, staff, rows, publish=publish)
    report = ImportReport(
        imported=len(rows) if imported else 0,
        failed=sum(1 for r in rows if r.errors),
        rows=[RowReport.model_validate(r.report()) for r in rows],
    )
    if not imported:
        raise ImportRefused(
            f"{report.failed} of {len(rows)} row(s) are wrong: nothing was imported.",
            **report.model_dump(mode="json"),
        )
    return report


@router.get(
    "/exports",
    summary="Export the catalogue (each item's current version)",
    response_class=Response,
    responses={
        200: {
            "description": "The catalogue as CSV, or as a JSON array of micro-credentials",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/MicroCredentialDraft"},
                    }
                },
            },
        }
    },
)
async def export_catalogue(
    engine: Engine, _: Staff, format: Literal["csv", "json"] = "json"
) -> Response:
    async with engine.connect() as conn:
        records: list[dict[str, Any]] = []
        for item in await repository.current_versions(conn):
            fields = {
                n: getattr(item, n) for n in MicroCredentialDraft.model_fields if hasattr(item, n)
            }
            fields["cpd_hours"] = item.cpd_points
            draft = MicroCredentialDraft(
                prerequisite_codes=await repository.codes_of(conn, item.prerequisites), **fields
            )
            records.append(draft.model_dump(mode="json", exclude_none=True))
    if format == "csv":
        return Response(
            bulk.write_csv(records),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="catalogue.csv"'},
        )
    return JSONResponse(records)
