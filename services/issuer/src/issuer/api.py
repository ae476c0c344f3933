"""The issuer's JSON API: credentials, status lists, verification, revocation, learner records."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.auth import Principal, require
from credstack.clock import now
from credstack.problems import Problem
from credstack.service import Engine
from issuer import mail, repository, statuslist, vcjwt
from issuer.domain import StatusChangeRefused
from issuer.openbadge2 import assertion_url
from issuer.tables import credential
from issuer.usecases import Issuer, NotFound
from issuer.verification import Unreadable, Verifier

router = APIRouter()

VC_MEDIA_TYPE = "application/vc+ld+json"
#: The largest body POST /verify reads (a baked image with its credential is far smaller).
MAX_VERIFY_BYTES = 5 * 1024 * 1024
CredentialId = Annotated[UUID, "The credential's id"]


def issuer_of(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


IssuerDep = Annotated[Issuer, Depends(issuer_of)]


def verifier_of(request: Request, engine: Engine) -> Verifier:
    """A verifier that reads this issuer's status lists and hosted assertions from the database."""
    issuer = issuer_of(request)
    lists_prefix = f"{issuer.base_url}/status-lists/"
    assertions_prefix = assertion_url(issuer.base_url, "")

    async def status_lists(url: str) -> dict[str, Any] | None:
        number, _, purpose = url.removeprefix(lists_prefix).partition("/")
        if not url.startswith(lists_prefix) or not number.isdigit():
            return None
        async with engine.connect() as conn:
            document = await repository.status_list_document(conn, int(number), purpose)
        return None if document is None else dict(document)

    async def hosted_assertions(url: str) -> dict[str, Any] | None:
        if not url.startswith(assertions_prefix):
            return None
        try:
            credential_id = UUID(url.removeprefix(assertions_prefix))
        except ValueError:
            return None
        return await stored_document(engine, credential_id)

    return Verifier(
        keys=issuer.keys,
        loader=issuer.loader,
        status_lists=status_lists,
        hosted_assertions=hosted_assertions,
    )


VerifierDep = Annotated[Verifier, Depends(verifier_of)]


async def stored_row(engine: AsyncEngine, credential_id: UUID) -> Any:
    async with engine.connect() as conn:
        row = await repository.credential_row(conn, credential_id)
    if row is None:
        raise Problem(404, "not-found", f"No credential {credential_id}.")
    return row


async def stored_document(engine: AsyncEngine, credential_id: UUID) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        row = await repository.credential_row(conn, credential_id)
    return None if row is None else dict(row.document)


def summary(row: Any, base_url: str) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "kind": row.kind,
        "learner_id": str(row.learner_id),
        "title": row.title,
        "issued_at": row.issued_at.isoformat(),
        "status": row.status,
        "status_reason": row.status_reason,
        "enrolment_id": str(row.enrolment_id) if row.enrolment_id else None,
        "micro_credential_id": str(row.micro_credential_id) if row.micro_credential_id else None,
        "micro_credential_version": row.micro_credential_version,
        "stack_id": str(row.stack_id) if row.stack_id else None,
        "url": row.document["id"],
        "page": f"{base_url}/verify/{row.id}",
    }


@router.get(
    "/credentials/{credential_id}",
    tags=["credentials"],
    summary="A credential, signed (public). Browsers are sent to its verification page.",
    response_class=JSONResponse,
    responses={200: {"content": {VC_MEDIA_TYPE: {}}}, 303: {"description": "to the page"}},
)
async def get_credential(credential_id: UUID, request: Request, engine: Engine) -> Response:
    row = await stored_row(engine, credential_id)
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "json" not in accept:
        return RedirectResponse(f"{issuer_of(request).base_url}/verify/{credential_id}", 303)
    return JSONResponse(row.document, media_type=VC_MEDIA_TYPE)


@router.get(
    "/credentials/{credential_id}/jwt",
    tags=["credentials"],
    summary="The credential as a VC-JWT (OB 3.0 profile), text/plain",
    response_class=PlainTextResponse,
)
async def get_credential_jwt(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    row = await stored_row(engine, credential_id)
    token = vcjwt.encode(
        row.document, private_key=issuer.keys.signing_key, kid=issuer.keys.signing_method
    )
    return PlainTextResponse(token)


@router.get("/credentials", tags=["credentials"], summary="Credentials of an enrolment (staff)")
async def credentials_of_enrolment(
    enrolment_id: UUID,
    issuer: IssuerDep,
    engine: Engine,
    _: Principal = require("issuer:manage"),
) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(credential)
            .where(credential.c.enrolment_id == enrolment_id)
            .order_by(credential.c.issued_at)
        )
        return [summary(row, issuer.base_url) for row in rows]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=3, max_length=500, description="Shown to verifiers and the learner"
    )


class Reinstatement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="Reinstated", max_length=500)


async def _change(
    engine: AsyncEngine, issuer: Issuer, credential_id: UUID, action: str, reason: str
) -> dict[str, Any]:
    try:
        async with engine.begin() as conn:
            status = await issuer.change_status(
                conn, credential_id, action, reason=reason, now=now()
            )
    except NotFound as error:
        raise Problem(404, "not-found", str(error)) from error
    except StatusChangeRefused as error:
        raise Problem(409, "status-change-refused", str(error)) from error
    return {"id": str(credential_id), "status": status, "reason": reason}


@router.post(
    "/credentials/{credential_id}/revoke",
    tags=["status"],
    summary="Revoke a credential, for good (staff); publishes CredentialRevoked",
)
async def revoke(
    credential_id: UUID,
    change: StatusChange,
    issuer: IssuerDep,
    engine: Engine,
    _: Principal = require("issuer:manage"),
) -> dict[str, Any]:
    return await _change(engine, issuer, credential_id, "revoke", change.reason)


@router.post(
    "/credentials/{credential_id}/suspend",
    tags=["status"],
    summary="Suspend a credential until reinstated (staff); publishes CredentialSuspended",
)
async def suspend(
    credential_id: UUID,
    change: StatusChange,
    issuer: IssuerDep,
    engine: Engine,
    _: Principal = require("issuer:manage"),
) -> dict[str, Any]:
    return await _change(engine, issuer, credential_id, "suspend", change.reason)


@router.post(
    "/credentials/{credential_id}/reinstate",
    tags=["status"],
    summary="Reinstate a suspended credential (staff); publishes CredentialReinstated",
)
async def reinstate(
    credential_id: UUID,
    issuer: IssuerDep,
    engine: Engine,
    change: Reinstatement = Body(default_factory=Reinstatement),
    _: Principal = require("issuer:manage"),
) -> dict[str, Any]:
    return await _change(engine, issuer, credential_id, "reinstate", change.reason)


@router.get(
    "/status-lists/{number}/{purpose}",
    tags=["status"],
    summary="A signed BitstringStatusListCredential (public, stable URL)",
    responses={200: {"content": {VC_MEDIA_TYPE: {}}}},
)
async def status_list(number: int, purpose: str, engine: Engine) -> JSONResponse:
    if purpose not in statuslist.PURPOSES:
        raise Problem(404, "not-found", f"Status lists are {' or '.join(statuslist.PURPOSES)}.")
    async with engine.connect() as conn:
        document = await repository.status_list_document(conn, number, purpose)
    if document is None:
        raise Problem(404, "not-found", f"No status list {number}.")
    return JSONResponse(
        document, media_type=VC_MEDIA_TYPE, headers={"Cache-Control": "max-age=300"}
    )


@router.post(
    "/verify",
    tags=["verification"],
    summary="Verify a credential: JSON, a VC-JWT (text/plain) or a baked PNG/SVG image",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {},
                "text/plain": {},
                "image/png": {},
                "image/svg+xml": {},
            },
        }
    },
)
async def verify(request: Request, verifier: VerifierDep) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_VERIFY_BYTES:
        raise Problem(413, "too-large", f"Send at most {MAX_VERIFY_BYTES // 1024 // 1024} MiB.")
    if not body.strip():
        raise Problem(400, "empty-body", "Send a credential: JSON, a VC-JWT or a baked image.")
    try:
        verdict = await verifier.verify(body, request.headers.get("content-type", ""), now=now())
    except Unreadable as error:
        raise Problem(400, "unreadable-credential", str(error)) from error
    return verdict.as_json()


@router.get("/.well-known/did.json", tags=["issuer"], summary="The issuer's did:web DID document")
async def did_document(issuer: IssuerDep) -> dict[str, Any]:
    return issuer.keys.did_document()


# -- the learner's record ------------------------------------------------------------

LEARNER = require("learner")


async def _record(engine: AsyncEngine, issuer: Issuer, learner_id: UUID) -> dict[str, Any]:
    async with engine.connect() as conn:
        rows = await repository.credentials_of_learner(conn, learner_id)
        stacks = await issuer.stack_progress(conn, learner_id)
    return {
        "learner_id": str(learner_id),
        "credentials": [summary(row, issuer.base_url) for row in rows],
        "stacks": stacks,
    }


@router.get(
    "/learners/me/credentials",
    tags=["learner record"],
    summary="All my credentials and my progress towards each stack (learner)",
)
async def my_record(
    issuer: IssuerDep, engine: Engine, learner: Principal = LEARNER
) -> dict[str, Any]:
    return await _record(engine, issuer, learner.learner_id)


@router.get(
    "/learners/me/clr",
    tags=["learner record"],
    summary="My record as a signed CLR 2.0 ClrCredential (learner)",
    responses={200: {"content": {VC_MEDIA_TYPE: {}}}},
)
async def my_clr(issuer: IssuerDep, engine: Engine, learner: Principal = LEARNER) -> JSONResponse:
    try:
        async with engine.connect() as conn:
            record = await issuer.learner_record(conn, learner.learner_id, now=now())
    except NotFound as error:
        raise Problem(404, "no-credentials", str(error)) from error
    return JSONResponse(
        record,
        media_type=VC_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="learner-record.json"'},
    )


@router.get(
    "/learners/{learner_id}/credentials",
    tags=["learner record"],
    summary="A learner's credentials and stack progress (staff)",
)
async def learner_record(
    learner_id: UUID, issuer: IssuerDep, engine: Engine, _: Principal = require("issuer:manage")
) -> dict[str, Any]:
    return await _record(engine, issuer, learner_id)


@router.get(
    "/admin/mailbox",
    tags=["operations"],
    summary="Messages the dev stack's SMTP sink received (staff; only without ISSUER_SMTP_HOST)",
)
async def mailbox(
    request: Request, _: Principal = require("issuer:manage")
) -> list[dict[str, Any]]:
    folder = request.app.state.mailbox
    if folder is None:
        raise Problem(404, "no-mailbox", "Email goes to a real SMTP server (ISSUER_SMTP_HOST).")
    return mail.read_mailbox(folder)
