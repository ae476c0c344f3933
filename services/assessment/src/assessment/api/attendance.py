"""Attendance registers: a contact session's register, recorded by staff or the LMS."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from assessment import records, repository, tables
from assessment.api.common import client_id_of, cursor_key
from assessment.api.results import STAFF
from assessment.usecases import results
from credstack import access
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, page_of
from credstack.problems import Problem
from credstack.service import Engine

router = APIRouter(tags=["results"])


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid")

    present: list[UUID] = Field(default=[], description="Enrolments that attended the session")
    absent: list[UUID] = Field(default=[], description="Enrolments that did not")


Session = Annotated[int, Path(ge=1, le=1000, description="The contact session's number, from 1")]


async def _may_record(engine: Engine, caller: Principal, offering_id: UUID) -> None:
    """Staff, or an LMS client registered for the offering, keep the register."""
    if STAFF in caller.scopes:
        return
    client_id = client_id_of(caller)
    if "grades:write" in caller.scopes and client_id is not None:
        async with engine.connect() as conn:
            client = await repository.client(conn, str(client_id))
        if client is not None and client.active and client.serves(offering_id):
            return
    raise Problem(
        403, "forbidden", f"Only staff or an LMS serving {offering_id} keep its register."
    )


class RegisterRecorded(BaseModel):
    offering_id: UUID
    session: int
    present: int
    absent: int


@router.put(
    "/offerings/{offering_id}/sessions/{session}/attendance",
    response_model=RegisterRecorded,
    summary="Record a contact session's register",
)
@access.scheme(
    "(in the handler) `assessment:moderate`, or `grades:write` naming an active LMS client"
    " serving the offering"
)
async def record_attendance(
    offering_id: UUID,
    session: Session,
    body: Register,
    engine: Engine,
    caller: Principal = require(),
) -> RegisterRecorded:
    """Replaces what was recorded for the enrolments named. A learner who attended (by
    default 80% of the contact sessions) but did not pass earns a certificate of
    attendance when the result is final."""
    await _may_record(engine, caller, offering_id)
    async with engine.begin() as conn:
        await results.record_attendance(
            conn,
            offering_id,
            session,
            present=set(body.present),
            absent=set(body.absent),
            by=caller.subject,
            now=now(),
        )
        if "assessment:moderate" in caller.scopes:
            await tables.audit.record_action(
                conn,
                caller,
                StaffAction.ATTENDANCE_RECORD,
                "offering",
                offering_id,
                session=session,
                present=sorted(map(str, body.present)),
                absent=sorted(map(str, body.absent)),
            )
    return RegisterRecorded(
        offering_id=offering_id,
        session=session,
        present=len(set(body.present)),
        absent=len(set(body.absent)),
    )


class AttendanceView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session: int
    enrolment_id: UUID
    attended: bool
    recorded_by: str
    recorded_at: datetime


@router.get(
    "/offerings/{offering_id}/attendance",
    response_model=Page[AttendanceView],
    summary="The offering's attendance records, by session and enrolment",
)
async def offering_attendance(
    offering_id: UUID,
    engine: Engine,
    limit: Limit = 500,
    cursor: Cursor = None,
    _: Principal = require(STAFF),
) -> Page[AttendanceView]:
    after = cursor_key(cursor, int, UUID)
    async with engine.connect() as conn:
        found = await records.attendance_of(conn, offering_id, after=after, limit=limit + 1)
    page = page_of(found, limit, key=lambda a: (a.session, str(a.enrolment_id)))
    return Page(
        items=[AttendanceView.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )
