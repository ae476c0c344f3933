"""The public catalogue's listings beside search: upcoming offerings and published stacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Date, Integer, Select, String, Uuid, and_, bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue.domain import OfferingStatus, Session, Stack, Status
from catalogue.repository import loaded_sessions, stack_from_row, stack_members
from catalogue.seats import seats_left
from catalogue.tables import micro_credential, offering, stack, stack_member

mc = micro_credential


@dataclass(frozen=True)
class Upcoming:
    """A scheduled offering that has not started, with its micro-credential's code."""

    id: UUID
    code: str
    title: str
    version: int
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    delivery_mode: str
    location: str
    time_zone: str
    fee_cents: int
    convenor: str
    open_for_enrolment: bool
    seats_left: int
    sessions: tuple[Session, ...]


async def upcoming_offerings(
    conn: AsyncConnection,
    *,
    at: datetime,
    micro_credential_id: UUID | None = None,
    after: tuple[date, str, UUID] | None = None,
    limit: int = 100,
) -> list[Upcoming]:
    """Scheduled offerings that have not started, soonest first, with their item's code,
    after the (start, code, id) `after`."""
    statement = _upcoming_statement(micro_credential_id is not None, after is not None)
    values: dict[str, Any] = {
        "opens": at,
        "closes": at,
        "today": at.date(),
        "limit": limit,
        "item": micro_credential_id,
    }
    if after is not None:
        values.update(after_start=after[0], after_code=after[1], after_id=after[2])
    return [
        Upcoming(**{**row._mapping, "sessions": loaded_sessions(row.sessions)})
        for row in await conn.execute(statement, values)
    ]


@lru_cache(maxsize=4)
def _upcoming_statement(of_one_item: bool, continues: bool) -> Select[Any]:
    """The statement of `upcoming_offerings`, built once for each of its four shapes (its
    values are bound per request: building it per request cost a quarter of a detail's CPU)."""
    query = (
        select(
            offering.c.id,
            mc.c.code,
            mc.c.title,
            offering.c.micro_credential_version.label("version"),
            offering.c.starts_on,
            offering.c.ends_on,
            offering.c.enrolment_opens_at,
            offering.c.enrolment_closes_at,
            offering.c.capacity,
            offering.c.delivery_mode,
            offering.c.location,
            offering.c.time_zone,
            offering.c.fee_cents,
            offering.c.convenor,
            and_(
                offering.c.enrolment_opens_at <= bindparam("opens"),
                offering.c.enrolment_closes_at > bindparam("closes"),
            ).label("open_for_enrolment"),
            seats_left().label("seats_left"),
            offering.c.sessions,
        )
        .join(
            mc,
            (mc.c.id == offering.c.micro_credential_id)
            & (mc.c.version == offering.c.micro_credential_version),
        )
        .where(
            offering.c.status == OfferingStatus.SCHEDULED.value,
            offering.c.starts_on >= bindparam("today"),
        )
        .order_by(offering.c.starts_on, mc.c.code, offering.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if of_one_item:
        query = query.where(offering.c.micro_credential_id == bindparam("item"))
    if continues:
        query = query.where(
            tuple_(offering.c.starts_on, mc.c.code, offering.c.id)
            > tuple_(
                bindparam("after_start", type_=Date),
                bindparam("after_code", type_=String),
                bindparam("after_id", type_=Uuid()),
            )
        )
    return query


async def published_stacks(
    conn: AsyncConnection, *, after: str | None = None, limit: int
) -> list[UUID]:
    """The ids of published stacks, by code, after the code `after`."""
    query = (
        select(stack.c.id)
        .where(stack.c.status == Status.PUBLISHED.value)
        .order_by(stack.c.code)
        .limit(limit)
    )
    if after is not None:
        query = query.where(stack.c.code > after)
    return list((await conn.execute(query)).scalars())


async def get_stacks(conn: AsyncConnection, stack_ids: list[UUID]) -> list[Stack]:
    """The newest version of each stack, in the order given (unknown ids left out): three
    statements for a page of any size, where loading them one by one took two per stack and
    one per member."""
    if not stack_ids:
        return []
    rows = {
        row.id: row
        for row in await conn.execute(
            select(stack)
            .where(stack.c.id.in_(stack_ids))
            .ext(distinct_on(stack.c.id))
            .order_by(stack.c.id, stack.c.version.desc())
        )
    }
    member_ids: dict[UUID, list[UUID]] = {stack_id: [] for stack_id in rows}
    for member in await conn.execute(
        select(stack_member.c.stack_id, stack_member.c.micro_credential_id)
        .where(
            tuple_(stack_member.c.stack_id, stack_member.c.stack_version).in_(
                [(row.id, row.version) for row in rows.values()]
            )
        )
        .order_by(stack_member.c.position)
    ):
        member_ids[member.stack_id].append(member.micro_credential_id)
    everyone = list(dict.fromkeys(i for ids in member_ids.values() for i in ids))
    members = {member.id: member for member in await stack_members(conn, everyone)}
    return [
        stack_from_row(rows[i], [members[m] for m in member_ids[i] if m in members])
        for i in stack_ids
        if i in rows
    ]
