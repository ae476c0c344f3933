"""Staff manage the LMS integrations: registered clients, roster links, quarantined grades."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr
from sqlalchemy import select

from assessment import repository
from assessment.api.common import After, Limit, client_id_of, page
from assessment.registry import ClientKind, LmsClient
from assessment.tables import grade, lms_client, roster_link
from assessment.usecases import NotServed, Unprocessable
from assessment.usecases import registry as clients
from credstack.auth import Principal, require
from credstack.problems import Problem
from credstack.service import Engine, now

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


@router.put("/lms-clients/{client_id}", summary="Register or update an LMS integration")
async def put_client(
    client_id: ClientId,
    body: ClientRegistration,
    engine: Engine,
    staff: Principal = require("platform:operate"),
) -> JSONResponse:
    """Creates the client (201) or updates it (200); the same request twice has one effect.

    A Caliper, xAPI or Moodle client without a `secret` at creation gets a generated one,
    shown in this answer only; only its hash is stored. Its kind cannot change.
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
        existing = await repository.client_row(conn, client_id)
        if existing is None:
            shown = await clients.register(conn, wanted, secret=secret, by=staff.subject, now=now())
            return JSONResponse(
                ClientView.of(wanted, shown if secret is None else None).model_dump(mode="json"),
                status_code=201,
            )
        if existing.kind != wanted.kind:
            raise Problem(409, "conflict", f"Client {client_id} is a {existing.kind} client.")
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


@router.post("/lms-clients/{client_id}/secret", summary="Replace an integration's secret")
async def rotate_secret(
    client_id: ClientId,
    body: SecretRotation,
    engine: Engine,
    _: Principal = require("platform:operate"),
) -> dict[str, str]:
    """The old secret stops working at once. A generated secret is shown in this answer only."""
    async with engine.begin() as conn:
        secret = await clients.rotate_secret(
            conn,
            client_id,
            secret=body.secret.get_secret_value() if body.secret else None,
            now=now(),
        )
    return {"client_id": client_id, "secret": secret if body.secret is None else "(as given)"}


@router.get("/lms-clients", summary="The registered LMS integrations")
async def list_clients(
    engine: Engine, _: Principal = require("platform:operate")
) -> list[ClientView]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(lms_client).order_by(lms_client.c.id))
        return [ClientView.of(repository.client_of(row)) for row in rows]


@router.get("/lms-clients/{client_id}", summary="One LMS integration")
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


def _link_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "client_id": row.client_id,
        "subject": row.subject,
        "offering_id": str(row.offering_id),
        "enrolment_id": str(row.enrolment_id),
        "linked_by": row.linked_by,
        "linked_at": row.linked_at.isoformat(),
    }


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


@router.post("/roster-links", summary="Link an integration's learner identifier to an enrolment")
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
            row = (await conn.execute(select(roster_link).where(roster_link.c.id == link_id))).one()
    except NotServed as error:
        if "assessment:moderate" not in caller.scopes:
            raise
        raise Unprocessable(f"{error} Register the offering for it first.") from error
    return JSONResponse(_link_view(row), status_code=201 if created else 200)


@router.get("/roster-links", summary="Roster links, by client, offering or learner identifier")
async def list_links(
    engine: Engine,
    limit: Limit = 100,
    after: After = None,
    client_id: str | None = None,
    offering_id: UUID | None = None,
    subject: str | None = None,
    _: Principal = require("assessment:moderate"),
) -> dict[str, Any]:
    query = select(roster_link).order_by(roster_link.c.id).limit(limit)
    for column, value in (
        (roster_link.c.client_id, client_id),
        (roster_link.c.offering_id, offering_id),
        (roster_link.c.subject, subject),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(roster_link.c.id > after)
    async with engine.connect() as conn:
        return page([_link_view(row) for row in await conn.execute(query)], limit)


@router.delete("/roster-links/{link_id}", status_code=204, summary="Remove a roster link")
async def unlink(
    link_id: int, engine: Engine, _: Principal = require("assessment:moderate")
) -> None:
    async with engine.begin() as conn:
        await clients.unlink(conn, link_id, client_id=None)


def _grade_view(row: Any) -> dict[str, Any]:
    score: Decimal | None = row.score
    return {
        "id": row.id,
        "client_id": row.client_id,
        "source": row.source,
        "status": row.status,
        "note": row.note,
        "subjects": list(row.subjects),
        "offering_id": str(row.offering_id) if row.offering_id else None,
        "enrolment_id": str(row.enrolment_id) if row.enrolment_id else None,
        "score": float(score) if score is not None else None,
        "final": row.final,
        "graded_at": row.graded_at.isoformat(),
        "received_at": row.received_at.isoformat(),
        "payload": row.payload,
    }


@router.get("/quarantined-grades", summary="Valid grades that map to no enrolment")
async def quarantined(
    engine: Engine,
    limit: Limit = 100,
    after: After = None,
    client_id: str | None = None,
    _: Principal = require("assessment:moderate"),
) -> dict[str, Any]:
    """Each with the reason (`note`), the client's identifiers of the learner and what it
    sent. Link the identifier (POST /roster-links), assign or dismiss the grade."""
    query = select(grade).where(grade.c.status == "quarantined").order_by(grade.c.id).limit(limit)
    if client_id is not None:
        query = query.where(grade.c.client_id == client_id)
    if after is not None:
        query = query.where(grade.c.id > after)
    async with engine.connect() as conn:
        return page([_grade_view(row) for row in await conn.execute(query)], limit)


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrolment_id: UUID
    note: str = Field(min_length=1, max_length=2000, description="Why this enrolment")


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000, description="Why the grade never counts")


@router.post("/quarantined-grades/{grade_id}/assign", summary="Attach a quarantined grade")
async def assign(
    grade_id: int,
    body: Assignment,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> dict[str, Any]:
    async with engine.begin() as conn:
        await clients.assign(
            conn,
            grade_id,
            enrolment_id=body.enrolment_id,
            note=body.note,
            by=staff.subject,
            now=now(),
        )
        row = (await conn.execute(select(grade).where(grade.c.id == grade_id))).one()
    return _grade_view(row)


@router.post("/quarantined-grades/{grade_id}/dismiss", summary="Set a quarantined grade aside")
async def dismiss(
    grade_id: int,
    body: Dismissal,
    engine: Engine,
    staff: Principal = require("assessment:moderate"),
) -> dict[str, Any]:
    async with engine.begin() as conn:
        await clients.dismiss(conn, grade_id, note=body.note, by=staff.subject, now=now())
        row = (await conn.execute(select(grade).where(grade.c.id == grade_id))).one()
    return _grade_view(row)
