"""Staff register the LMS integrations: clients, their kind, secrets and offerings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import repository, tables
from assessment.api.common import ClientId
from assessment.registry import ClientKind, LearnerIds, LmsClient
from assessment.usecases import Conflict
from assessment.usecases import registry as clients
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.service import Engine

router = APIRouter(tags=["LMS integrations"])


class ClientRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ClientKind
    name: str = Field(min_length=1, max_length=200)
    offering_ids: list[UUID] = Field(description="The offerings this integration serves")
    active: bool = True
    lti_issuer: str | None = Field(default=None, description="LTI: the platform's issuer (iss)")
    lti_deployment_id: str | None = Field(default=None, description="LTI: the deployment id")
    moodle_url: HttpUrl | None = Field(default=None, description="Moodle: the site's base URL")
    learner_ids: LearnerIds = Field(
        default=LearnerIds.LMS,
        description="How the LMS names learners: `lms`, its own ids (linked to enrolments by "
        "roster links), or `identity-provider`, the subject of the identity provider it signs "
        "them in with, as Credstack does (LTI userId, Caliper assignee, xAPI account name): "
        "a grade for a learner with no link is then linked to their confirmed enrolment "
        "automatically",
    )
    secret: SecretStr | None = Field(
        default=None,
        description="Caliper API key, xAPI Basic password or Moodle webhook token; generated "
        "(and shown once) when omitted at creation",
    )

    def client(self, client_id: str) -> LmsClient:
        return LmsClient(
            id=client_id,
            kind=self.kind,
            name=self.name,
            offering_ids=frozenset(self.offering_ids),
            active=self.active,
            lti_issuer=self.lti_issuer,
            lti_deployment_id=self.lti_deployment_id,
            moodle_url=str(self.moodle_url) if self.moodle_url else None,
            learner_ids=self.learner_ids,
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
    learner_ids: LearnerIds
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
            learner_ids=client.learner_ids,
            secret=secret,
        )


async def _audit(
    conn: AsyncConnection, staff: Principal, action: StaffAction, client: LmsClient, **more: Any
) -> None:
    """Record a registration or change with what the client may now do (never its secret)."""
    await tables.audit.record_action(
        conn,
        staff,
        action,
        "lms-client",
        client.id,
        kind=str(client.kind),
        name=client.name,
        offering_ids=sorted(map(str, client.offering_ids)),
        active=client.active,
        learner_ids=str(client.learner_ids),
        **more,
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
    wanted = body.client(client_id)
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
            await _audit(conn, staff, StaffAction.LMS_CLIENT_REGISTER, wanted)
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
                "learner_ids": wanted.learner_ids,
            },
            now=now(),
        )
        if secret is not None:
            await clients.rotate_secret(conn, client_id, secret=secret, now=now())
        await _audit(
            conn, staff, StaffAction.LMS_CLIENT_CHANGE, wanted, secret_replaced=secret is not None
        )
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
    staff: Principal = require("platform:operate"),
) -> SecretAnswer:
    """The old secret stops working at once. A generated secret is shown in this answer only."""
    async with engine.begin() as conn:
        secret = await clients.rotate_secret(
            conn,
            client_id,
            secret=body.secret.get_secret_value() if body.secret else None,
            now=now(),
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.LMS_CLIENT_SECRET_REPLACE,
            "lms-client",
            client_id,
            generated=body.secret is None,
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
