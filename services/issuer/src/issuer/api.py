"""The issuer's public reads: credentials by id and the issuer's DID document."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from credstack.auth import Principal, require
from credstack.problems import Problem
from credstack.service import Engine
from issuer.tables import credential

router = APIRouter(tags=["credentials"])

VC_MEDIA_TYPE = "application/vc+ld+json"


@router.get(
    "/credentials/{credential_id}",
    summary="A credential, signed (public)",
    response_class=JSONResponse,
    responses={200: {"content": {VC_MEDIA_TYPE: {}}}},
)
async def get_credential(credential_id: UUID, engine: Engine) -> JSONResponse:
    async with engine.connect() as conn:
        document = await conn.scalar(
            select(credential.c.document).where(credential.c.id == credential_id)
        )
    if document is None:
        raise Problem(404, "not-found", f"No credential {credential_id}.")
    return JSONResponse(document, media_type=VC_MEDIA_TYPE)


@router.get("/.well-known/did.json", summary="The issuer's did:web DID document", tags=["issuer"])
async def did_document(request: Request) -> dict[str, Any]:
    document: dict[str, Any] = request.app.state.issuer.keys.did_document()
    return document


@router.get("/credentials", summary="Credentials issued for an enrolment (staff)")
async def credentials_of_enrolment(
    enrolment_id: UUID, engine: Engine, _: Principal = require("issuer:manage")
) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                credential.c.id, credential.c.kind, credential.c.issued_at, credential.c.document
            )
            .where(credential.c.enrolment_id == enrolment_id)
            .order_by(credential.c.issued_at)
        )
        return [
            {"id": row.id, "kind": row.kind, "issued_at": row.issued_at, "url": row.document["id"]}
            for row in rows
        ]
