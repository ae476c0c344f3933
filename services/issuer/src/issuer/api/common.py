"""What the issuer's routes share: the issuer and verifier dependencies, response models,
and the OpenAPI descriptions of documents that are not plain JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.db import autocommit
from credstack.service import Engine
from issuer.api.status_cache import StatusListsDep
from issuer.domain import Credential, Kind, Status
from issuer.identity import Issuer
from issuer.standards.openbadges2 import assertion_url
from issuer.usecases import readmodels
from issuer.verification import Verifier

VC_MEDIA_TYPE = "application/vc+ld+json"
LD_JSON = "application/ld+json"


class VcJson(JSONResponse):
    """A signed verifiable credential (``application/vc+ld+json``)."""

    media_type = VC_MEDIA_TYPE


class LdJson(JSONResponse):
    """A JSON-LD document (``application/ld+json``)."""

    media_type = LD_JSON


def _issuer(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


async def issuer_of(request: Request) -> Issuer:
    """(Async, as every dependency here: FastAPI runs a plain `def` dependency in the
    thread pool, a thread hop per request.)"""
    return _issuer(request)


IssuerDep = Annotated[Issuer, Depends(issuer_of)]


async def verifier_of(request: Request, engine: Engine, lists: StatusListsDep) -> Verifier:
    """A verifier that reads this issuer's status lists (through this process's short-lived
    copy, `status_cache`) and hosted assertions from the database."""
    issuer = _issuer(request)
    lists_prefix = f"{issuer.base_url}/status-lists/"
    assertions_prefix = assertion_url(issuer.base_url, "")

    async def status_lists(url: str) -> dict[str, Any] | None:
        number, _, purpose = url.removeprefix(lists_prefix).partition("/")
        if not url.startswith(lists_prefix) or not number.isdigit() or len(number) > 10:
            return None
        return await lists.document(engine, int(number), purpose)

    async def hosted_assertions(url: str) -> dict[str, Any] | None:
        if not url.startswith(assertions_prefix):
            return None
        try:
            credential_id = UUID(url.removeprefix(assertions_prefix))
        except ValueError:
            return None
        async with engine.connect() as conn:
            return await readmodels.document(conn, credential_id)

    return Verifier(
        keys=issuer.signing.keys,
        loader=issuer.signing.loader,
        status_lists=status_lists,
        hosted_assertions=hosted_assertions,
        base_url=issuer.base_url,
    )


VerifierDep = Annotated[Verifier, Depends(verifier_of)]


async def stored(engine: AsyncEngine, credential_id: UUID) -> Credential:
    """The credential, or a 404 problem (one statement: no transaction around it)."""
    async with autocommit(engine).connect() as conn:
        return await readmodels.credential(conn, credential_id)


def documented(media_type: str, description: str, **schema: Any) -> dict[int | str, Any]:
    """The OpenAPI ``responses`` of a route answering 200 with ``media_type``."""
    return {
        200: {
            "description": description,
            "content": {media_type: {"schema": schema or {"type": "object"}}},
        }
    }


BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
TEXT: dict[str, Any] = {"type": "string"}


class CredentialSummary(BaseModel):
    """A credential as staff and its learner list it (the signed document is at ``url``)."""

    id: UUID
    kind: Kind
    learner_id: UUID
    title: str
    issued_at: datetime
    status: Status
    status_reason: str | None
    enrolment_id: UUID | None
    micro_credential_id: UUID | None
    micro_credential_version: int | None
    stack_id: UUID | None
    url: str = Field(description="The signed OB 3.0 credential")
    page: str = Field(description="Its public verification page")

    @classmethod
    def of(cls, credential: Credential, issuer: Issuer) -> CredentialSummary:
        return cls(
            id=credential.id,
            kind=credential.kind,
            learner_id=credential.learner_id,
            title=credential.title,
            issued_at=credential.issued_at,
            status=credential.status,
            status_reason=credential.status_reason,
            enrolment_id=credential.enrolment_id,
            micro_credential_id=credential.micro_credential_id,
            micro_credential_version=credential.micro_credential_version,
            stack_id=credential.stack_id,
            url=credential.url,
            page=issuer.page_url(credential.id),
        )
