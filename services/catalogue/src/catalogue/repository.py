"""Loading and saving micro-credentials, stacks and offerings (SQLAlchemy Core)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Row, func, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue.domain import (
    MicroCredential,
    Offering,
    OfferingPlan,
    OfferingStatus,
    Session,
    Stack,
    StackMember,
    Status,
)
from catalogue.tables import micro_credential, offering, stack, stack_member
from credstack.contracts.catalogue import Alignment, CreditPathway, Endorsement, LearningOutcome
from credstack.numbers import plain

# JSONB columns holding lists of contract parts, and how to read them back.
_PARTS: dict[str, type[BaseModel]] = {
    "learning_outcomes": LearningOutcome,
    "alignments": Alignment,
    "endorsements": Endorsement,
    "credit_pathways": CreditPathway,
}
_MICRO_CREDENTIAL_FIELDS = [f.name for f in dataclasses.fields(MicroCredential)]
_QUANTITIES = ("pass_mark", "credit_points", "notional_hours", "contact_hours", "cpd_hours")


def _to_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, UUID):
        return str(value)
    return value


def micro_credential_from_row(row: Row[Any]) -> MicroCredential:
    values = {name: getattr(row, name) for name in _MICRO_CREDENTIAL_FIELDS}
    for name, part in _PARTS.items():
        values[name] = [part.model_validate(v) for v in values[name]]
    values["prerequisites"] = [UUID(v) for v in values["prerequisites"]]
    for name in _QUANTITIES:
        if values[name] is not None:
            values[name] = plain(values[name])
    values["status"] = Status(values["status"])
    return MicroCredential(**values)


def _micro_credential_columns(item: MicroCredential) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in _MICRO_CREDENTIAL_FIELDS}
    values = {name: _to_json(value) for name, value in values.items()}
    values["status"] = item.status.value
    values["cpd_hours"] = item.cpd_points
    return values


async def get(
    conn: AsyncConnection, item_id: UUID, version: int | None = None, *, for_update: bool = False
) -> MicroCredential | None:
    """One version, or the newest when `version` is None."""
    t = micro_credential
    query = select(t).where(t.c.id == item_id)
    query = query.where(t.c.version == version) if version else query.order_by(t.c.version.desc())
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query.limit(1))).first()
    return micro_credential_from_row(row) if row else None


async def published(
    conn: AsyncConnection, item_id: UUID, *, for_update: bool = False
) -> MicroCredential | None:
    t = micro_credential
    query = select(t).where(t.c.id == item_id, t.c.status == Status.PUBLISHED.value)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return micro_credential_from_row(row) if row else None


async def versions(
    conn: AsyncConnection, item_id: UUID, *, after: int | None = None, limit: int
) -> list[MicroCredential]:
    """Up to `limit` versions, oldest first, after version `after`."""
    t = micro_credential
    query = select(t).where(t.c.id == item_id).order_by(t.c.version).limit(limit)
    if after is not None:
        query = query.where(t.c.version > after)
    return [micro_credential_from_row(row) for row in await conn.execute(query)]


async def codes_of(conn: AsyncConnection, ids: list[UUID]) -> list[str]:
    """The codes of these micro-credentials, in the order given (unknown ids left out)."""
    if not ids:
        return []
    t = micro_credential
    rows = await conn.execute(select(t.c.id, t.c.code).where(t.c.id.in_(ids)).distinct())
    found: dict[UUID, str] = {row.id: row.code for row in rows}
    return [found[i] for i in ids if i in found]


async def by_code(conn: AsyncConnection, code: str) -> MicroCredential | None:
    """The public version of the item with this code: the published one, else the last one."""
    t = micro_credential
    rank = func.array_position(
        [Status.PUBLISHED.value, Status.DISESTABLISHED.value, Status.SUPERSEDED.value], t.c.status
    )
    row = (
        await conn.execute(
            select(t)
            .where(
                func.upper(t.c.code) == code.upper(),
                t.c.status.in_(
                    [Status.PUBLISHED.value, Status.DISESTABLISHED.value, Status.SUPERSEDED.value]
                ),
            )
            .order_by(rank, t.c.version.desc())
            .limit(1)
        )
    ).first()
    return micro_credential_from_row(row) if row else None


async def id_of_code(conn: AsyncConnection, code: str) -> UUID | None:
    t = micro_credential
    found = await conn.scalar(select(t.c.id).where(func.upper(t.c.code) == code.upper()).limit(1))
    return found


async def save(conn: AsyncConnection, item: MicroCredential, *, now: datetime) -> None:
    values = _micro_credential_columns(item)
    statement = insert(micro_credential).values(**values, created_at=now)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["id", "version"],
            set_={k: statement.excluded[k] for k in values if k not in ("id", "version")},
        )
    )


async def current_versions(conn: AsyncConnection) -> list[MicroCredential]:
    """Each item's public version (published, else its newest), by code."""
    t = micro_credential
    rows = await conn.execute(
        select(t)
        .ext(distinct_on(t.c.id))
        .order_by(t.c.id, (t.c.status == Status.PUBLISHED.value).desc(), t.c.version.desc())
    )
    return sorted((micro_credential_from_row(row) for row in rows), key=lambda i: i.code)


async def reviews_due(
    conn: AsyncConnection,
    on_or_before: date,
    *,
    after: tuple[date, str] | None = None,
    limit: int,
) -> list[MicroCredential]:
    """Published versions due for review by `on_or_before`, soonest first, after the
    (due date, code) `after`."""
    t = micro_credential
    query = (
        select(t)
        .where(t.c.status == Status.PUBLISHED.value, t.c.review_due_on <= on_or_before)
        .order_by(t.c.review_due_on, t.c.code)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(t.c.review_due_on, t.c.code) > tuple_(*after))
    return [micro_credential_from_row(row) for row in await conn.execute(query)]


async def awaiting_approval(
    conn: AsyncConnection, *, after: tuple[str, int] | None = None, limit: int
) -> list[MicroCredential]:
    """Versions submitted and awaiting an approver, by (code, version) after `after`."""
    t = micro_credential
    query = (
        select(t)
        .where(t.c.status == Status.SUBMITTED.value)
        .order_by(t.c.code, t.c.version)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(t.c.code, t.c.version) > tuple_(*after))
    return [micro_credential_from_row(row) for row in await conn.execute(query)]


async def stacks_of(conn: AsyncConnection, item_id: UUID) -> list[UUID]:
    """Published stacks this micro-credential belongs to."""
    rows = await conn.execute(
        select(stack.c.id)
        .join(
            stack_member,
            (stack_member.c.stack_id == stack.c.id)
            & (stack_member.c.stack_version == stack.c.version),
        )
        .where(
            stack_member.c.micro_credential_id == item_id, stack.c.status == Status.PUBLISHED.value
        )
        .distinct()
    )
    return [row[0] for row in rows]


async def stack_members(conn: AsyncConnection, member_ids: list[UUID]) -> list[StackMember]:
    """The members as they stand now (their published version, else their newest), in order:
    one statement for any number of them."""
    if not member_ids:
        return []
    t = micro_credential
    rows = await conn.execute(
        select(t.c.id, t.c.code, t.c.credit_points, t.c.status, t.c.title)
        .where(t.c.id.in_(member_ids))
        .ext(distinct_on(t.c.id))
        .order_by(t.c.id, (t.c.status == Status.PUBLISHED.value).desc(), t.c.version.desc())
    )
    found = {
        r.id: StackMember(r.id, r.code, plain(r.credit_points), Status(r.status), r.title)
        for r in rows
    }
    return [found[i] for i in member_ids if i in found]


async def get_stack(
    conn: AsyncConnection, stack_id: UUID, *, for_update: bool = False
) -> Stack | None:
    query = select(stack).where(stack.c.id == stack_id).order_by(stack.c.version.desc()).limit(1)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        return None
    member_ids = [
        r[0]
        for r in await conn.execute(
            select(stack_member.c.micro_credential_id)
            .where(stack_member.c.stack_id == row.id, stack_member.c.stack_version == row.version)
            .order_by(stack_member.c.position)
        )
    ]
    return stack_from_row(row, await stack_members(conn, member_ids))


def stack_from_row(row: Row[Any], members: list[StackMember]) -> Stack:
    return Stack(
        id=row.id,
        version=row.version,
        code=row.code,
        title=row.title,
        description=row.description,
        kind=row.kind,
        members=members,
        required_count=row.required_count,
        within_months=row.within_months,
        learning_outcomes=[LearningOutcome.model_validate(o) for o in row.learning_outcomes],
        field_of_study=row.field_of_study,
        language=row.language,
        credit_pathways=[CreditPathway.model_validate(p) for p in row.credit_pathways],
        published_at=row.published_at,
        status=Status(row.status),
        proposed_by=row.proposed_by,
        approved_by=row.approved_by,
    )


async def stack_id_of_code(conn: AsyncConnection, code: str) -> UUID | None:
    found = await conn.scalar(
        select(stack.c.id).where(func.upper(stack.c.code) == code.upper()).limit(1)
    )
    return found


async def save_stack(conn: AsyncConnection, item: Stack, *, now: datetime) -> None:
    values = {
        "code": item.code,
        "status": item.status.value,
        "title": item.title,
        "description": item.description,
        "kind": item.kind,
        "required_count": item.required_count,
        "within_months": item.within_months,
        "learning_outcomes": _to_json(item.learning_outcomes),
        "field_of_study": item.field_of_study,
        "language": item.language,
        "credit_pathways": _to_json(item.credit_pathways),
        "proposed_by": item.proposed_by,
        "approved_by": item.approved_by,
        "published_at": item.published_at,
    }
    statement = insert(stack).values(id=item.id, version=item.version, created_at=now, **values)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=["id", "version"], set_=values)
    )
    await conn.execute(
        stack_member.delete().where(
            stack_member.c.stack_id == item.id, stack_member.c.stack_version == item.version
        )
    )
    if item.members:
        await conn.execute(
            stack_member.insert(),
            [
                {
                    "stack_id": item.id,
                    "stack_version": item.version,
                    "position": position,
                    "micro_credential_id": member.id,
                }
                for position, member in enumerate(item.members)
            ],
        )


def stored_sessions(sessions: tuple[Session, ...]) -> list[dict[str, Any]]:
    return [
        {
            "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(),
            "venue": session.venue,
            "online": session.online,
            "join_note": session.join_note,
        }
        for session in sessions
    ]


def loaded_sessions(stored: list[dict[str, Any]]) -> tuple[Session, ...]:
    return tuple(
        Session(
            starts_at=datetime.fromisoformat(s["starts_at"]),
            ends_at=datetime.fromisoformat(s["ends_at"]),
            venue=s["venue"],
            online=s["online"],
            join_note=s["join_note"],
        )
        for s in stored
    )


def _offering_from_row(row: Row[Any]) -> Offering:
    return Offering(
        id=row.id,
        micro_credential_id=row.micro_credential_id,
        micro_credential_version=row.micro_credential_version,
        plan=OfferingPlan(
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            enrolment_opens_at=row.enrolment_opens_at,
            enrolment_closes_at=row.enrolment_closes_at,
            capacity=row.capacity,
            delivery_mode=row.delivery_mode,
            time_zone=row.time_zone,
            location=row.location,
            fee_cents=row.fee_cents,
            convenor=row.convenor,
            lms_course_ref=row.lms_course_ref,
            contact_sessions=row.contact_sessions,
            sessions=loaded_sessions(row.sessions),
        ),
        status=OfferingStatus(row.status),
        enrolment_announced=row.enrolment_announced,
    )


async def get_offering(
    conn: AsyncConnection, offering_id: UUID, *, for_update: bool = False
) -> Offering | None:
    query = select(offering).where(offering.c.id == offering_id)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return _offering_from_row(row) if row else None


async def save_offering(conn: AsyncConnection, item: Offering, *, now: datetime) -> None:
    plan = item.plan
    values = {
        "micro_credential_id": item.micro_credential_id,
        "micro_credential_version": item.micro_credential_version,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "enrolment_opens_at": plan.enrolment_opens_at,
        "enrolment_closes_at": plan.enrolment_closes_at,
        "capacity": plan.capacity,
        "delivery_mode": plan.delivery_mode,
        "location": plan.location,
        "time_zone": plan.time_zone,
        "fee_cents": plan.fee_cents,
        "convenor": plan.convenor or "",
        "lms_course_ref": plan.lms_course_ref,
        "contact_sessions": plan.contact_sessions,
        "sessions": stored_sessions(plan.sessions),
        "status": item.status.value,
        "enrolment_announced": item.enrolment_announced,
    }
    statement = insert(offering).values(id=item.id, created_at=now, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))


async def offerings_to_announce(
    conn: AsyncConnection, at: datetime, *, only: UUID | None = None, limit: int = 100
) -> list[Offering]:
    """Scheduled offerings whose enrolment has opened but was not announced yet (locked);
    `only` limits it to one offering."""
    query = select(offering) if only is None else select(offering).where(offering.c.id == only)
    rows = await conn.execute(
        query.where(
            offering.c.status == OfferingStatus.SCHEDULED.value,
            offering.c.enrolment_announced.is_(False),
            offering.c.enrolment_opens_at <= at,
            offering.c.enrolment_closes_at > at,
        )
        .order_by(offering.c.enrolment_opens_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_offering_from_row(row) for row in rows]
