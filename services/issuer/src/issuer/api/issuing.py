"""Issued credentials: the signed document, its VC-JWT, an enrolment's credentials, the DID."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from credstack import access
from credstack.auth import Principal, require
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.service import Engine
from issuer.api.common import (
    TEXT,
    VC_MEDIA_TYPE,
    CredentialSummary,
    IssuerDep,
    VcJson,
    documented,
    stored,
)
from issuer.domain import CredentialNotFound
from issuer.standards import vc_jwt
from issuer.usecases import readmodels, vcapi

router = APIRouter()


@router.get(
    "/credentials/{credential_id}",
    tags=["credentials"],
    summary="A credential, signed (public). Browsers are sent to its verification page.",
    response_class=VcJson,
    responses={
        **documented(VC_MEDIA_TYPE, "The signed OB 3.0 OpenBadgeCredential"),
        303: {"description": "to the page"},
    },
)
@access.public
async def get_credential(
    credential_id: UUID, request: Request, issuer: IssuerDep, engine: Engine
) -> Response:
    try:
        found = await stored(engine, credential_id)
    except CredentialNotFound:
        async with engine.connect() as conn:  # one issued through the VC-API
            return VcJson(await vcapi.credential(conn, credential_id))
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "json" not in accept:
        return RedirectResponse(issuer.page_url(credential_id), 303)
    return VcJson(found.document)


@router.get(
    "/credentials/{credential_id}/jwt",
    tags=["credentials"],
    summary="The credential as a VC-JWT (OB 3.0 profile), text/plain",
    response_class=PlainTextResponse,
    responses=documented("text/plain", "The compact JWS", **TEXT),
)
@access.public
async def get_credential_jwt(
    credential_id: UUID,
    issuer: IssuerDep,
    engine: Engine,
    alg: Literal["RS256", "EdDSA"] = Query(
        default="RS256",
        description="RS256 (the OB 3.0 JWT profile) or EdDSA, for verifiers that ask for it",
    ),
) -> Response:
    found = await stored(engine, credential_id)
    key, kid = issuer.signing.keys.jwt_signer(issuer.base_url, alg)
    return PlainTextResponse(vc_jwt.encode(found.document, private_key=key, kid=kid))


@router.get("/credentials", tags=["credentials"], summary="Credentials of an enrolment (staff)")
async def credentials_of_enrolment(
    enrolment_id: UUID,
    issuer: IssuerDep,
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("issuer:manage"),
) -> Page[CredentialSummary]:
    after = None
    if cursor is not None:
        issued_at, credential_id = decode_cursor(cursor, str, str)
        after = (datetime.fromisoformat(issued_at), UUID(credential_id))
    async with engine.connect() as conn:
        found = await readmodels.credentials_of_enrolment(
            conn, enrolment_id, after=after, limit=limit + 1
        )
    page = page_of(found, limit, lambda c: (c.issued_at.isoformat(), str(c.id)))
    return Page(
        items=[CredentialSummary.of(c, issuer) for c in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/.well-known/did.json",
    tags=["issuer"],
    summary="The issuer's did:web DID document",
    response_model=dict[str, Any],
)
@access.public
async def did_document(issuer: IssuerDep) -> dict[str, Any]:
    return issuer.signing.keys.did_document()
