"""Learners' privacy rights, in the shape every service answers them.

Each service that holds data about a learner serves `GET /learners/me/data` (and staff's
`GET /admin/learners/{learner_id}/data`): a `LearnerData` document of everything it holds
on them. The enrolment service gathers them into one archive and takes erasure requests;
each service erases what it holds when `LearnerErased` / `LearnerDataErased` arrives and
declares, as `Erasure`, what it erases and what it keeps and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.enrolment import LearnerContactChanged
from credstack.contracts.topics import CONTACT_TOPICS
from credstack.kafka import ParkedEvents

EXPORT_PATH = "/learners/me/data"
"""Where every service that holds data about learners serves a learner's own export."""


class LearnerData(BaseModel):
    """The head of one service's export; each service adds its own typed sections."""

    service: str = Field(description="The service that holds this data")
    learner_id: UUID
    generated_at: datetime


class Kept(BaseModel):
    """Something erasure leaves in place, and why."""

    what: str
    why: str


class Erasure(BaseModel):
    """What one service does with a learner's data on erasure."""

    service: str
    erases: list[str]
    keeps: list[Kept]


ERASED = "erased"
"""What stands in a text column that may not be empty once its personal data is erased."""


def scrubbed(document: Any, keys: frozenset[str]) -> Any:
    """`document` (JSON) without any member whose name is in `keys`, at any depth."""
    if isinstance(document, dict):
        return {k: scrubbed(v, keys) for k, v in document.items() if k not in keys}
    if isinstance(document, list):
        return [scrubbed(item, keys) for item in document]
    return document


async def forget_parked_contacts(
    conn: AsyncConnection, parked: ParkedEvents, learner_id: UUID
) -> None:
    """Delete the learner's contact details parked by this consumer: staff could otherwise
    replay them after the erasure."""
    table = parked.table
    await conn.execute(
        delete(table).where(
            table.c.topic == CONTACT_TOPICS["enrolment"],
            table.c.key == str(learner_id),
            table.c.payload.contains(LearnerContactChanged.type_name()),
        )
    )
