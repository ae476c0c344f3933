"""Loading and saving micro-credentials and offerings (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue.domain import MicroCredential, Status
from catalogue.tables import micro_credential
from credstack.contracts.catalogue import Alignment, LearningOutcome


def _to_domain(row: Any) -> MicroCredential:
    return MicroCredential(
        id=row.id,
        version=row.version,
        code=row.code,
        title=row.title,
        summary=row.summary,
        description=row.description,
        learning_outcomes=[LearningOutcome.model_validate(o) for o in row.learning_outcomes],
        assessment_description=row.assessment_description,
        pass_mark=row.pass_mark,
        credit_points=row.credit_points,
        notional_hours=row.notional_hours,
        cpd_hours=row.cpd_hours,
        field_of_study=row.field_of_study,
        language=row.language,
        expiry_months=row.expiry_months,
        fee_cents=row.fee_cents,
        alignments=[Alignment.model_validate(a) for a in row.alignments],
        proposed_by=row.proposed_by,
        status=Status(row.status),
        approved_by=row.approved_by,
        published_at=row.published_at,
    )


def _columns(item: MicroCredential) -> dict[str, Any]:
    return {
        "id": item.id,
        "version": item.version,
        "code": item.code,
        "status": item.status.value,
        "title": item.title,
        "summary": item.summary,
        "description": item.description,
        "learning_outcomes": [o.model_dump() for o in item.learning_outcomes],
        "assessment_description": item.assessment_description,
        "pass_mark": item.pass_mark,
        "credit_points": item.credit_points,
        "notional_hours": item.notional_hours,
        "cpd_hours": item.cpd_points,
        "field_of_study": item.field_of_study,
        "language": item.language,
        "expiry_months": item.expiry_months,
        "fee_cents": item.fee_cents,
        "alignments": [a.model_dump() for a in item.alignments],
        "proposed_by": item.proposed_by,
        "approved_by": item.approved_by,
        "published_at": item.published_at,
    }


async def get(
    conn: AsyncConnection, item_id: UUID, version: int | None = None, *, for_update: bool = False
) -> MicroCredential | None:
    t = micro_credential
    query = select(t).where(t.c.id == item_id)
    query = query.where(t.c.version == version) if version else query.order_by(t.c.version.desc())
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query.limit(1))).first()
    return _to_domain(row) if row else None


async def published_by_code(conn: AsyncConnection, code: str) -> MicroCredential | None:
    t = micro_credential
    row = (
        await conn.execute(
            select(t)
            .where(func.upper(t.c.code) == code.upper(), t.c.status == Status.PUBLISHED.value)
            .order_by(t.c.version.desc())
            .limit(1)
        )
    ).first()
    return _to_domain(row) if row else None


async def code_taken(conn: AsyncConnection, code: str) -> bool:
    t = micro_credential
    found = await conn.scalar(select(t.c.id).where(func.upper(t.c.code) == code.upper()).limit(1))
    return found is not None


async def save(conn: AsyncConnection, item: MicroCredential, *, now: Any) -> None:
    values = _columns(item)
    statement = insert(micro_credential).values(**values, created_at=now)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["id", "version"],
            set_={k: statement.excluded[k] for k in values if k not in ("id", "version")},
        )
    )
