"""Staff manage the LMS integrations: registered clients, roster links, quarantined grades."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import records, repository
from assessment.api.common import client_id_of
from assessment.domain import GradeStatus
from assessment.formats import WrongMediaType, load_json, roster
from assessment.registry import ClientKind, LmsClient
from assessment.usecases import Conflict, NotFound, NotServed, Unprocessable, activities
from assessment.usecases import registry as clients
from credstack import access
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.numbers import Quantity
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.problems import Problem
from credstack.service import Engine

router = APIRouter(tags=["LMS integrations"])

ClientId = Annotated[
    str,
    Path(
        min_length=2,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The client id (for bearer tokens: the token's client_id claim)",
    ),
]


class ClientRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ClientKind
    name: str = Field(min_length=1, max_length=200)
    offering_ids: list[UUID] = Field(description="The offerings this integration serves")
    active: bool = True
    lti_issuer: str | None = Field(default=None, description="LTI: the platform's issuer (iss)")
    lti_deployment_id: str | None = Field(default=None, description="LTI: the deployment id")
    moodle_url: HttpUrl | None = Field(default=None, description="Moodle: the site's base URL")
    secret: SecretStr | None = Field(
        default=None,
        description="Caliper API key, xAPI Basic password or Moodle webhook token; generated "
        "(and shown once) when omitted at creation",
    )


class ClientView(BaseModel):
    id: str
    kind: ClientKind
    name: str
    offering_ids: list[UUID]
    active: bool
    lti_issuer: str | None
    lti_deployment_id: str | None
    moodle_url: str | None
    secret: str | None = Field(default=None, description="Only in the answer that set it")

    @classmethod
    def of(cls, client: LmsClient, secret: str | None = None) -> ClientView:
        return cls(
            id=client.id,
            kind=client.kind,
            name=client.name,
            offering_ids=sorted(client.offering_ids),
            active=client.active,
            lti_issuer=client.lti_issuer,
            lti_deployment_id=client.lti_deployment_id,
            moodle_url=client.moodle_url,
            secret=secret,
        )


@router.put(
    "/lms-clients/{client_id}",
    response_model=ClientView,
    responses={201: {"model": ClientView, "description": "Registered"}},
    summary="Register or update an LMS integration",
)
async def put_client(
    client_id: ClientId,
    body: ClientRegistration,
    request: Request,
    engine: Engine,
    staff: Principal = require("platform:operate"),
) -> JSONResponse:
    """Creates the client (201) or updates it (200); the same request twice has one effect.

    A Caliper, xAPI or Moodle client without a `secret` at creation gets a generated one,
    shown in this answer only; only its hash is stored. Its kind cannot change. A Moodle
    client without a web service token in the configuration is refused (422).
    """
    wanted = LmsClient(
        id=client_id,
        kind=body.kind,
        name=body.name,
        offering_ids=frozenset(body.offering_ids),
        active=body.active,
        lti_issuer=body.lti_issuer,
        lti_deployment_id=body.lti_deployment_id,
        moodle_url=str(body.moodle_url) if body.moodle_url else None,
    )
    secret = body.secret.get_secret_value() if body.secret else None
    async with engine.begin() as conn:
        existing = await repository.client(conn, client_id)
        if existing is None:
            shown = await clients.register(
                conn,
                wanted,
                secret=secret,
                moodle_tokens=frozenset(request.app.state.settings.moodle_ws_tokens),
                by=staff.subject,
                now=now(),
            )
            return JSONResponse(
                ClientView.of(wanted, shown if secret is None else None).model_dump(mode="json"),
                status_code=201,
            )
        if existing.kind != wanted.kind:
            raise Conflict(f"Client {client_id} is a {existing.kind} client.")
        updated = await clients.change(
            conn,
            client_id,
            {
                "name": wanted.name,
                "offering_ids": wanted.offering_ids,
                "active": wanted.active,
                "lti_issuer": wanted.lti_issuer,
                "lti_deployment_id": wanted.lti_deployment_id,
                "moodle_url": wanted.moodle_url,
            },
            now=now(),
        )
        if secret is not None:
            await clients.rotate_secret(conn, client_id, secret=secret, now=now())
    return JSONResponse(ClientView.of(updated).model_dump(mode="json"))


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: SecretStr | None = Field(default=None, description="Omit to have one generated")


class SecretAnswer(BaseModel):
    client_id: str
    secret: str = Field(description="The generated secret (shown once), or `(as given)`")


@router.post(
    "/lms-clients/{client_id}/secret",
    response_model=SecretAnswer,
    summary="Replace an integration's secret",
)
async def rotate_secret(
    client_id: ClientId,
    body: SecretRotation,
    engine: Engine,
    _: Principal = require("platform:operate"),
) -> SecretAnswer:
    """The old secret stops working at once. A generated secret is shown in this answer only."""
    async with engine.begin() as conn:
        secret = await clients.rotate_secret(
            conn,
            client_id,
            secret=body.secret.get_secret_value() if body.secret else None,
            now=now(),
        )
    return SecretAnswer(client_id=client_id, secret=secret if body.secret is None else "(as given)")


@router.get(
    "/lms-clients",
    response_model=Page[ClientView],
    summary="The registered LMS integrations, by id",
)
async def list_clients(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[ClientView]:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        found = await repository.clients(conn, after=after, limit=limit + 1)
    page = page_of(found, limit, key=lambda client: (client.id,))
    return Page(items=[ClientView.of(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/lms-clients/{client_id}", response_model=ClientView, summary="One LMS integration")
async def get_client(
    client_id: ClientId, engine: Engine, _: Principal = require("platform:operate")
) -> ClientView:
    async with engine.connect() as conn:
        return ClientView.of(await clients.client(conn, client_id))


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
    link_id: int, engine: Engine, _: Principal = require("assessment:moderate")
) -> None:
    async with engine.begin() as conn:
        await clients.unlink(conn, link_id, client_id=None)


class QuarantinedGrade(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    source: str
    status: GradeStatus
    note: str | None
    subjects: list[str]
    offering_id: UUID | None
    enrolment_id: UUID | None
    score: Quantity | None
    final: bool
    graded_at: datetime
    received_at: datetime
    payload: Any = Field(description="What the integration sent")


async def _grade_view(conn: AsyncConnection, grade_id: int) -> QuarantinedGrade:
    found = await records.stored_grade(conn, grade_id)
    if found is None:
        raise NotFound(f"No grade {grade_id}.")
    return QuarantinedGrade.model_validate(found)


@router.get(
    "/quarantined-grades",
    response_model=Page[QuarantinedGrade],
    summary="Valid grades that map to no enrolment",
)
async def quarantined(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    client_id: str | None = None,
    _: Principal = require("assessment:moderate"),
) -> Page[QuarantinedGrade]:
    """Each with the reason (`note`), the client's identifiers of the learner and what it
    sent. Link the identifier (POST /roster-links), assign or dismiss the grade."""
    (after,) = decode_cursor(cursor, int) if cursor else (None,)
    async with engine.connect() as conn:
        found = await records.quarantined_grades(
            conn, client_id=client_id, after=after, limit=limit + 1
        )
    page = page_of(found, limit, key=lambda grade: (grade.id,))
    return Page(
        items=[QuarantinedGrade.model_validate(g) for g in page.items],
        next_cursor=page.next_cursor,
    )


class MoodleFetchView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    course_id: int
    user_id: int
    item_id: int | None
    notified_at: datetime
    received_at: datetime
    attempts: int = Field(description="Fetches tried so far")
    next_attempt_at: datetime
    last_error: str | None = Field(description="Why the last fetch failed (None: not tried)")


@router.get(
    "/moodle-fetches",
    response_model=Page[MoodleFetchView],
    summary="Moodle grade notifications whose grade is not fetched yet, with the last error",
)
async def moodle_fetches(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    failing: bool = False,
    _: Principal = require("assessment:moderate"),
) -> Page[MoodleFetchView]:
    """`failing=true`: only those whose last fetch failed (the worker retries them)."""
    (after,) = decode_cursor(cursor, int) if cursor else (None,)
    async with engine.connect() as conn:
        found = await records.pending_moodle_fetches(
            conn, failing_only=failing, after=after, limit=limit + 1
        )
    page = page_of(found, limit, key=lambda fetch: (fetch.id,))
    return Page(
        items=[MoodleFetchView.model_validate(f) for f in page.items],
        next_cursor=page.next_cursor,
    )


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrolment_id: UUID
    note: str = Field(min_length=1, max_length=2000, description="Why this enrolment")


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000, description="Why the grade never counts")


@router.post(
    "/quarantined-grades/{grade_id}/assign",
    response_model=QuarantinedGrade,
    summary="Attach a quarantined grade",
)
async def assign(
    grade_id: int,
    body: Assignment,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> QuarantinedGrade:
    async with engine.begin() as conn:
        await clients.assign(
            conn,
            grade_id,
            enrolment_id=body.enrolment_id,
            note=body.note,
            by=staff.subject,
            now=now(),
        )
        return await _grade_view(conn, grade_id)


@router.post(
    "/quarantined-grades/{grade_id}/dismiss",
    response_model=QuarantinedGrade,
    summary="Set a quarantined grade aside",
)
async def dismiss(
    grade_id: int,
    body: Dismissal,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> QuarantinedGrade:
    async with engine.begin() as conn:
        await clients.dismiss(conn, grade_id, note=body.note, by=staff.subject, now=now())
        return await _grade_view(conn, grade_id)


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
