"""Roster links: which LMS user is which enrolment, linked one by one or by roster import."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from assessment import records, tables
from assessment.api.common import ClientId, client_id_of
from assessment.formats import WrongMediaType, load_json, roster
from assessment.registry import LmsClient
from assessment.usecases import NotFound, NotServed, Unprocessable
from assessment.usecases import registry as clients
from credstack import access
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.problems import Problem
from credstack.service import Engine

router = APIRouter(tags=["LMS integrations"])


class RosterLinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str | None = Field(
        default=None, description="Staff name the client; an LMS links for itself"
    )
    subject: str = Field(
        min_length=1,
        max_length=500,
        description="The client's identifier of the learner: LTI subject (sub), Caliper "
        "assignee id, Moodle user id, xAPI account (homePage|name)",
    )
    offering_id: UUID
    enrolment_id: UUID


class RosterLinkView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    subject: str
    offering_id: UUID
    enrolment_id: UUID
    linked_by: str
    linked_at: datetime
    automatic: bool = Field(
        description="Linked by a grade naming the identity provider's subject (a client with "
        "learner_ids `identity-provider`), not by staff or a roster"
    )


async def _linking_client(engine: Engine, caller: Principal, named: str | None) -> LmsClient:
    """Staff act for any client; an LMS (bearer token) only for itself."""
    if "assessment:moderate" in caller.scopes:
        if named is None:
            raise Problem(422, "unprocessable", "Name the client_id the link is for.")
        client_id = named
    elif "grades:write" in caller.scopes:
        own = client_id_of(caller)
        if own is None or (named is not None and named != own):
            raise Problem(403, "forbidden", "An LMS client links learners for itself only.")
        client_id = str(own)
    else:
        raise Problem(403, "insufficient-scope", "Needs assessment:moderate or grades:write.")
    async with engine.connect() as conn:
        return await clients.client(conn, client_id)


@router.post(
    "/roster-links",
    response_model=RosterLinkView,
    responses={201: {"model": RosterLinkView, "description": "A new link"}},
    summary="Link an integration's learner identifier to an enrolment",
)
@access.scheme(
    "(in the handler) `assessment:moderate`, or `grades:write` linking for its own LMS client"
)
async def link(
    body: RosterLinkRequest, engine: Engine, caller: Principal = require()
) -> JSONResponse:
    """201 for a new link, 200 if it already existed. Grades of that learner from that
    client that were quarantined for want of a link are then mapped and decided."""
    client = await _linking_client(engine, caller, body.client_id)
    try:
        async with engine.begin() as conn:
            link_id, created = await clients.link(
                conn,
                client,
                subject=body.subject,
                offering_id=body.offering_id,
                enrolment_id=body.enrolment_id,
                by=caller.subject,
                now=now(),
            )
            if created and "assessment:moderate" in caller.scopes:
                await tables.audit.record_action(
                    conn,
                    caller,
                    StaffAction.ROSTER_LINK,
                    "roster-link",
                    link_id,
                    client_id=body.client_id,
                    enrolment_id=str(body.enrolment_id) if body.enrolment_id else None,
                )
            found = await records.roster_link_by_id(conn, link_id)
    except NotServed as error:
        if "assessment:moderate" not in caller.scopes:
            raise
        raise Unprocessable(f"{error} Register the offering for it first.") from error
    if found is None:
        raise NotFound(f"No roster link {link_id}.")
    view = RosterLinkView.model_validate(found)
    return JSONResponse(view.model_dump(mode="json"), status_code=201 if created else 200)


@router.get(
    "/roster-links",
    response_model=Page[RosterLinkView],
    summary="Roster links, by client, offering or learner identifier",
)
async def list_links(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    client_id: str | None = None,
    offering_id: UUID | None = None,
    subject: str | None = None,
    _: Principal = require("assessment:moderate"),
) -> Page[RosterLinkView]:
    (after,) = decode_cursor(cursor, int) if cursor else (None,)
    async with engine.connect() as conn:
        found = await records.roster_links(
            conn,
            client_id=client_id,
            offering_id=offering_id,
            subject=subject,
            after=after,
            limit=limit + 1,
        )
    page = page_of(found, limit, key=lambda link: (link.id,))
    return Page(
        items=[RosterLinkView.model_validate(link) for link in page.items],
        next_cursor=page.next_cursor,
    )


@router.delete("/roster-links/{link_id}", status_code=204, summary="Remove a roster link")
async def unlink(
    link_id: int, engine: Engine, staff: Principal = require("assessment:moderate")
) -> None:
    async with engine.begin() as conn:
        await clients.unlink(conn, link_id, client_id=None)
        await tables.audit.record_action(
            conn, staff, StaffAction.ROSTER_UNLINK, "roster-link", link_id
        )


class RosterLinked(BaseModel):
    subject: str
    enrolment_id: UUID


class RosterRefused(BaseModel):
    line: int = Field(description="The CSV line, or the member's position in the NRPS list")
    subject: str
    reason: str


class RosterImportView(BaseModel):
    linked: list[RosterLinked]
    unchanged: list[RosterLinked]
    not_linked: list[RosterRefused]


@router.post(
    "/lms-clients/{client_id}/offerings/{offering_id}/roster",
    response_model=RosterImportView,
    summary="Link a roster at once: a CSV export or an LTI NRPS membership container",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                roster.NRPS_MEDIA_TYPE: {"schema": {"type": "object"}},
            }
        }
    },
)
async def import_roster(
    client_id: ClientId,
    offering_id: UUID,
    request: Request,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> RosterImportView:
    """`text/csv` with a header naming `subject` (the LMS's id of the learner, as its
    grades carry it) and `learner_id` or `enrolment_id`; or the JSON an LTI platform's
    Names and Role Provisioning Services answer (active `Learner` members, our learner id
    as `lis_person_sourcedid`). Each row is linked as by POST /roster-links; rows that
    cannot be are listed with the reason."""
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "text/csv":
        rows = roster.csv_rows(body)
    elif media_type in (roster.NRPS_MEDIA_TYPE, "application/json"):
        rows = roster.nrps_rows(load_json(body))
    else:
        raise WrongMediaType(
            "unsupported-media-type", f"Send text/csv or {roster.NRPS_MEDIA_TYPE}."
        )
    async with engine.begin() as conn:
        client = await clients.client(conn, client_id)
        report = await clients.import_roster(
            conn, client, offering_id, rows, by=staff.subject, now=now()
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.ROSTER_IMPORT,
            "offering",
            offering_id,
            client_id=client_id,
            linked=len(report.linked),
            unchanged=len(report.unchanged),
            not_linked=len(report.not_linked),
        )
    return RosterImportView(
        linked=[RosterLinked(subject=s, enrolment_id=e) for s, e in report.linked],
        unchanged=[RosterLinked(subject=s, enrolment_id=e) for s, e in report.unchanged],
        not_linked=[
            RosterRefused(line=line, subject=s, reason=r) for line, s, r in report.not_linked
        ],
    )


class UnlinkedLearner(BaseModel):
    enrolment_id: UUID
    learner_id: UUID


class UnlinkedView(BaseModel):
    offering_id: UUID
    client_id: str | None
    items: list[UnlinkedLearner]


@router.get(
    "/offerings/{offering_id}/unlinked-learners",
    response_model=UnlinkedView,
    summary="Confirmed learners of an offering whom no roster link names yet",
)
async def unlinked_learners(
    offering_id: UUID,
    engine: Engine,
    client_id: str | None = None,
    _: Principal = require("assessment:moderate"),
) -> UnlinkedView:
    """Their LMS grades would be quarantined: link them (one by one, or a roster)."""
    async with engine.connect() as conn:
        found = await clients.unlinked(conn, offering_id, client_id)
    return UnlinkedView(
        offering_id=offering_id,
        client_id=client_id,
        items=[UnlinkedLearner(enrolment_id=e, learner_id=lr) for e, lr in found],
    )
