"""The LMS activities whose scores decide a result, declared per client and offering."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from assessment import repository, tables
from assessment.api.common import ClientId
from assessment.usecases import activities
from assessment.usecases import registry as clients
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.service import Engine

router = APIRouter(tags=["LMS integrations"])


class DeclaredActivity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activity: str = Field(
        min_length=1,
        max_length=2000,
        description="The LMS's id of the activity: `lineitem` (the offering's LTI line "
        "item), a Caliper assignable IRI, an xAPI activity (object) id, a Moodle grade item "
        "id or `course` (the Moodle course total)",
    )
    summative: bool = Field(
        default=False, description="Whether its grade decides the result (at most one)"
    )
    label: str | None = Field(default=None, max_length=200)
    outcome_ids: list[str] = Field(
        default=[], description="Learning outcomes of the micro-credential it evidences"
    )


class ActivityDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activities: list[DeclaredActivity] = Field(max_length=500)


class ActivitiesView(BaseModel):
    client_id: str
    offering_id: UUID
    activities: list[DeclaredActivity]


def _activities_view(
    client_id: str, offering_id: UUID, found: list[activities.Activity]
) -> ActivitiesView:
    return ActivitiesView(
        client_id=client_id,
        offering_id=offering_id,
        activities=[
            DeclaredActivity(
                activity=a.activity,
                summative=a.summative,
                label=a.label,
                outcome_ids=list(a.outcome_ids),
            )
            for a in found
        ],
    )


@router.put(
    "/lms-clients/{client_id}/offerings/{offering_id}/activities",
    response_model=ActivitiesView,
    summary="Declare which LMS activity is the summative assessment",
)
async def declare_activities(
    client_id: ClientId,
    offering_id: UUID,
    body: ActivityDeclaration,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> ActivitiesView:
    """Replaces the declaration for this client and offering. Only grades of the
    summative activity decide the result; the others are kept as formative and shown to
    staff. Grades already received are classified again and the results decided again."""
    async with engine.begin() as conn:
        client = await clients.client(conn, client_id)
        found = await activities.declare(
            conn,
            client,
            offering_id,
            [
                activities.Activity(a.activity, a.summative, a.label, tuple(a.outcome_ids))
                for a in body.activities
            ],
            known_outcomes=await repository.offering_outcomes(conn, offering_id),
            by=staff.subject,
            now=now(),
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.LMS_ACTIVITIES_DECLARE,
            "offering",
            offering_id,
            client_id=client_id,
            activities=[a.model_dump(mode="json") for a in body.activities],
        )
    return _activities_view(client_id, offering_id, found)


@router.get(
    "/lms-clients/{client_id}/offerings/{offering_id}/activities",
    response_model=ActivitiesView,
    summary="The declared activities of an LMS client for an offering",
)
async def declared_activities(
    client_id: ClientId,
    offering_id: UUID,
    engine: Engine,
    _: Principal = require("assessment:moderate"),
) -> ActivitiesView:
    async with engine.connect() as conn:
        await clients.client(conn, client_id)
        found = await activities.declared(conn, client_id, offering_id)
    return _activities_view(client_id, offering_id, found)
