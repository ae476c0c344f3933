"""Learners' profiles and the academic-integrity declaration.

Learners act with learner tokens; their email is the one the identity provider verified
(`email` with `email_verified: true` in the token). Staff publish the declaration's text.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack import access
from credstack.audit import StaffAction
from credstack.auth import learner_id_for
from credstack.clock import now
from credstack.db import autocommit
from credstack.refusals import NotFound
from credstack.service import Engine
from enrolment import records, tables
from enrolment.api.common import Learner, Staff, verified_email
from enrolment.domain.eligibility import declaration_satisfied
from enrolment.usecases import learners

router = APIRouter(tags=["learners"])


class NoProfile(NotFound):
    code = "profile-required"


class ProfileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_on_credential: str = Field(
        min_length=1, max_length=200, description="Your name as it should appear on credentials"
    )
    university_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{1,32}$",
        description="Your university ID, if you have one (most learners do not)",
    )


class DeclarationStatus(BaseModel):
    current_version: int | None
    accepted_version: int | None
    accepted_at: datetime | None
    satisfied: bool


class LearnerView(BaseModel):
    id: UUID
    email: str
    name_on_credential: str
    university_id: str | None
    integrity_declaration: DeclarationStatus
    credentials_held: list[UUID]
    placements: dict[str, str]


async def _learner_view(conn: AsyncConnection, learner_id: UUID) -> LearnerView:
    row = await records.learner_profile(conn, learner_id)
    if row is None:
        raise NoProfile("You have no learner profile yet: PUT /learners/me.")
    record, current = await records.learner_facts(conn, learner_id)
    return LearnerView(
        id=row.id,
        email=row.email,
        name_on_credential=row.name_on_credential,
        university_id=row.university_id,
        integrity_declaration=DeclarationStatus(
            current_version=current,
            accepted_version=row.declaration_version,
            accepted_at=row.declaration_accepted_at,
            satisfied=declaration_satisfied(record, current),
        ),
        credentials_held=sorted(record.held),
        placements=dict(record.placements),
    )


@router.put("/learners/me", response_model=LearnerView)
async def save_profile(body: ProfileRequest, engine: Engine, learner: Learner) -> LearnerView:
    """Create or update your profile; the email comes from your verified sign-in."""
    learner_id = learner_id_for(learner.subject)
    async with engine.begin() as conn:
        await learners.save_profile(
            conn,
            learner_id=learner_id,
            subject=learner.subject,
            email=verified_email(learner),
            name_on_credential=body.name_on_credential,
            university_id=body.university_id,
            now=now(),
        )
        return await _learner_view(conn, learner_id)


@router.get("/learners/me", response_model=LearnerView)
async def my_profile(engine: Engine, learner: Learner) -> LearnerView:
    async with engine.connect() as conn:
        return await _learner_view(conn, learner_id_for(learner.subject))


class DeclarationView(BaseModel):
    version: int
    text: str
    published_at: datetime


@router.get("/academic-integrity/declaration", response_model=DeclarationView)
@access.public
async def current_declaration(engine: Engine) -> DeclarationView:
    """The current academic-integrity declaration every learner accepts before their first
    micro-credential starts (public)."""
    async with autocommit(engine).connect() as conn:  # one statement
        row = await records.current_declaration(conn)
    if row is None:
        raise NotFound("No academic-integrity declaration is published yet.")
    return DeclarationView(version=row.version, text=row.text, published_at=row.published_at)


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version of the declaration you read and accept")


class AcceptanceView(BaseModel):
    accepted_version: int
    confirmed_enrolments: list[UUID]


@router.post("/learners/me/integrity-declaration", response_model=AcceptanceView)
async def accept_declaration(body: Acceptance, engine: Engine, learner: Learner) -> AcceptanceView:
    """Accept the current declaration; enrolments that waited for it are confirmed."""
    async with engine.begin() as conn:
        confirmed = await learners.accept_declaration(
            conn, learner_id=learner_id_for(learner.subject), version=body.version, now=now()
        )
    return AcceptanceView(accepted_version=body.version, confirmed_enrolments=confirmed)


class DeclarationText(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=20, max_length=20000)


@router.post(
    "/academic-integrity/declarations",
    status_code=201,
    response_model=DeclarationView,
)
async def publish_declaration(
    body: DeclarationText, engine: Engine, staff: Staff
) -> DeclarationView:
    """Publish a new version of the declaration. Learners not yet inducted must accept it;
    those already confirmed once need not accept it again."""
    at = now()
    async with engine.begin() as conn:
        version = await learners.publish_declaration(
            conn, text=body.text, published_by=staff.subject, now=at
        )
        await tables.audit.record_action(
            conn, staff, StaffAction.DECLARATION_PUBLISH, "declaration", version
        )
    return DeclarationView(version=version, text=body.text, published_at=at)
