"""Queries over what eligibility decides from: learners' profiles, the integrity
declaration, credentials held, placements, and an offering's requirements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack import locks
from enrolment.domain import Standing
from enrolment.domain.eligibility import LearnerRecord, Requirements
from enrolment.tables import (
    enrolment,
    held_credential,
    integrity_declaration,
    learner,
    micro_credential,
    offering,
    placement,
)


@dataclass(frozen=True)
class LearnerProfile:
    id: UUID
    email: str
    name_on_credential: str
    university_id: str | None
    declaration_version: int | None
    declaration_accepted_at: datetime | None


@dataclass(frozen=True)
class Declaration:
    version: int
    text: str
    published_at: datetime


async def requirements(conn: AsyncConnection, offering_id: UUID) -> Requirements:
    """The offering's requirements together with its micro-credential version's."""
    o = (
        await conn.execute(
            select(
                offering.c.prerequisites,
                offering.c.language,
                offering.c.is_language_micro_credential,
                offering.c.language_level,
                micro_credential.c.prerequisites.label("mc_prerequisites"),
                micro_credential.c.language.label("mc_language"),
                micro_credential.c.is_language_micro_credential.label("mc_is_language"),
                micro_credential.c.language_level.label("mc_language_level"),
            )
            .select_from(
                offering.outerjoin(
                    micro_credential,
                    (micro_credential.c.id == offering.c.micro_credential_id)
                    & (micro_credential.c.version == offering.c.micro_credential_version),
                )
            )
            .where(offering.c.id == offering_id)
        )
    ).one()
    language, level = o.language, o.language_level or o.mc_language_level
    if not o.is_language_micro_credential and o.mc_is_language:
        language, level = o.mc_language, o.mc_language_level
    return Requirements(
        prerequisites=frozenset(o.prerequisites) | frozenset(o.mc_prerequisites or ()),
        language=language,
        is_language_micro_credential=bool(o.is_language_micro_credential or o.mc_is_language),
        language_level=level,
    )


async def lock_learner(conn: AsyncConnection, learner_id: UUID) -> None:
    """Serialise decisions that depend on a learner's record (the declaration above all):
    taken before any offering or enrolment lock."""
    await locks.lock(conn, "enrolment-learner", learner_id)


async def learner_profile(conn: AsyncConnection, learner_id: UUID) -> LearnerProfile | None:
    row = (await conn.execute(select(learner).where(learner.c.id == learner_id))).first()
    if row is None:
        return None
    return LearnerProfile(
        id=row.id,
        email=row.email,
        name_on_credential=row.name_on_credential,
        university_id=row.university_id,
        declaration_version=row.declaration_version,
        declaration_accepted_at=row.declaration_accepted_at,
    )


async def learner_record(conn: AsyncConnection, learner_id: UUID) -> LearnerRecord:
    return (await learner_facts(conn, learner_id))[0]


async def current_declaration(conn: AsyncConnection) -> Declaration | None:
    row = (
        await conn.execute(
            select(integrity_declaration).order_by(integrity_declaration.c.version.desc()).limit(1)
        )
    ).first()
    if row is None:
        return None
    return Declaration(version=row.version, text=row.text, published_at=row.published_at)


async def current_declaration_version(conn: AsyncConnection) -> int | None:
    found = await current_declaration(conn)
    return found.version if found else None


async def learner_facts(
    conn: AsyncConnection, learner_id: UUID
) -> tuple[LearnerRecord, int | None]:
    """The learner's record and the current declaration's version, in one statement (one
    round trip where there were five)."""
    held = select(func.array_agg(held_credential.c.micro_credential_id)).where(
        held_credential.c.learner_id == learner_id,
        held_credential.c.status == Standing.ACTIVE.value,
    )
    placements = select(
        func.jsonb_object_agg(placement.c.language, placement.c.level, type_=JSONB)
    ).where(placement.c.learner_id == learner_id)
    accepted = select(learner.c.declaration_version).where(learner.c.id == learner_id)
    confirmed_before = (
        select(enrolment.c.id)
        .where(enrolment.c.learner_id == learner_id, enrolment.c.confirmed_at.is_not(None))
        .exists()
    )
    current = select(func.max(integrity_declaration.c.version))
    row = (
        await conn.execute(
            select(
                held.scalar_subquery(),
                placements.scalar_subquery(),
                accepted.scalar_subquery(),
                confirmed_before,
                current.scalar_subquery(),
            )
        )
    ).one()
    record = LearnerRecord(
        held=frozenset(row[0] or ()),
        placements=row[1] or {},
        declaration_version=row[2],
        previously_confirmed=bool(row[3]),
    )
    return record, row[4]
