"""An offering's roster for staff (scope `enrolment:manage`): JSON pages and a CSV export,
with each enrolment's payment status."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.pagination import Cursor, Limit, Page, page_of
from credstack.service import Engine
from enrolment import repository
from enrolment.api.common import Staff, after, cursor_of
from enrolment.domain import Offering, PaymentStatus, Status
from enrolment.repository import RosterLine
from enrolment.usecases import NotFound

router = APIRouter(tags=["staff"])


class RosterEntry(BaseModel):
    enrolment_id: UUID
    learner_id: UUID
    learner_name: str
    email: str
    university_id: str | None
    status: Status
    payment_status: PaymentStatus
    payment_flag: str | None
    fee_cents: int
    amount_paid_cents: int
    amount_refunded_cents: int
    currency: str
    requested_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    language_experience: bool | None
    experience_statement: str | None

    @classmethod
    def of(cls, line: RosterLine) -> RosterEntry:
        item = line.enrolment
        return cls(
            enrolment_id=item.id,
            learner_id=item.learner_id,
            learner_name=item.learner_name,
            email=item.email,
            university_id=line.university_id,
            status=item.status,
            payment_status=item.payment_status,
            payment_flag=item.payment_flag,
            fee_cents=item.fee_cents,
            amount_paid_cents=item.amount_paid_cents,
            amount_refunded_cents=item.amount_refunded_cents,
            currency=item.currency,
            requested_at=item.requested_at,
            confirmed_at=item.confirmed_at,
            ended_at=item.ended_at,
            end_reason=item.end_reason,
            language_experience=item.language_experience,
            experience_statement=item.experience_statement,
        )


class Roster(Page[RosterEntry]):
    """A page of the roster, with the offering's seats as they stand now."""

    offering_id: UUID
    code: str
    title: str
    capacity: int
    seats_free: int
    waitlist_length: int


StatusFilter = Annotated[Status | None, Query(description="Only enrolments in this status")]


async def _offering(conn: AsyncConnection, offering_id: UUID) -> Offering:
    target = await repository.get_offering(conn, offering_id)
    if target is None:
        raise NotFound(f"No offering {offering_id}.")
    return target


@router.get("/offerings/{offering_id}/roster", response_model=Roster)
async def roster(
    offering_id: UUID,
    engine: Engine,
    _: Staff,
    status: StatusFilter = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Roster:
    """Everyone enrolled, waitlisted or waiting for approval, in the order they enrolled."""
    async with engine.connect() as conn:
        target = await _offering(conn, offering_id)
        lines = await repository.roster(
            conn, target, status=status, limit=limit + 1, after=after(cursor)
        )
        page = page_of(lines, limit, lambda line: cursor_of(line.enrolment))
        return Roster(
            offering_id=target.id,
            code=target.code,
            title=target.title,
            capacity=target.capacity,
            seats_free=await repository.seats_free(conn, target),
            waitlist_length=await repository.waitlist_length(conn, offering_id),
            items=[RosterEntry.of(line) for line in page.items],
            next_cursor=page.next_cursor,
        )


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


@router.get(
    "/offerings/{offering_id}/roster.csv",
    response_class=Response,
    responses={
        200: {
            "description": "The roster as CSV, a header line first",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def roster_csv(
    offering_id: UUID, engine: Engine, _: Staff, status: StatusFilter = None
) -> Response:
    """The whole roster as CSV, one enrolment per line, with payment status."""
    async with engine.connect() as conn:
        target = await _offering(conn, offering_id)
        lines = await repository.roster(conn, target, status=status, limit=None)
    columns = list(RosterEntry.model_fields)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for line in lines:
        entry = RosterEntry.of(line)
        writer.writerow([_cell(getattr(entry, column)) for column in columns])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="roster-{target.code}-{target.id}.csv"'
        },
    )
