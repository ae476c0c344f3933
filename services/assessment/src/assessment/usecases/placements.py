"""Language proficiency placement: the level at which a learner may enrol."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from assessment.tables import outbox, placement
from credstack.contracts.assessment import PlacementAssessed


async def assess(
    conn: AsyncConnection,
    *,
    learner_id: UUID,
    language: str,
    level: str,
    note: str,
    by: str,
    now: datetime,
) -> UUID:
    """Record a placement result and tell enrolment (`PlacementAssessed`). A later
    placement in the same language supersedes an earlier one."""
    placement_id = uuid4()
    await conn.execute(
        placement.insert().values(
            id=placement_id,
            learner_id=learner_id,
            language=language,
            level=level,
            note=note,
            assessed_by=by,
            assessed_at=now,
        )
    )
    await outbox.add(
        conn,
        PlacementAssessed(learner_id=learner_id, language=language, level=level, assessed_at=now),
        now=now,
    )
    return placement_id
