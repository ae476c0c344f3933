"""Endorsements of a micro-credential (OB 3.0 EndorsementCredentials), recorded by staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import (
    Cursor,
    Limit,
    MalformedCursor,
    Page,
    decode_cursor,
    page_of,
)
from credstack.service import Engine
from issuer import tables
from issuer.api.common import IssuerDep, VerifierDep
from issuer.endorsements import Endorsement, Endorser, Origin
from issuer.usecases import endorsements

router = APIRouter(tags=["endorsements"])
STAFF = require("issuer:manage")
PATH = "/achievements/{micro_credential_id}/endorsements"


class UploadedEndorsement(BaseModel):
    """An EndorsementCredential the endorser signed (Data Integrity, eddsa-rdfc-2022)."""

    model_config = ConfigDict(extra="forbid")
    credential: dict[str, Any] = Field(
        description="The signed EndorsementCredential; its credentialSubject.id is this "
        "micro-credential's achievement: <base>/achievements/<id> (every version) or "
        "<base>/achievements/<id>/versions/<n>"
    )


class ManagedEndorser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=200)
    url: HttpUrl
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class ManagedEndorsement(BaseModel):
    """An endorsement the centre issues and signs for an endorser it manages."""

    model_config = ConfigDict(extra="forbid")
    endorser: ManagedEndorser
    comment: str = Field(min_length=3, max_length=2000, description="The endorser's statement")
    version: int | None = Field(
        default=None, ge=1, description="The one version endorsed; omitted: every version"
    )


class EndorsementView(BaseModel):
    id: UUID
    micro_credential_id: UUID
    version: int | None = Field(description="The version endorsed; null: every version")
    origin: Origin = Field(description="uploaded (the endorser signed) or issued (the centre)")
    endorser_name: str
    endorser_id: str = Field(description="The endorser's DID (uploaded) or URL (issued)")
    recorded_at: datetime
    withdrawn_at: datetime | None
    credential: dict[str, Any] = Field(description="The signed EndorsementCredential")

    @classmethod
    def of(cls, found: Endorsement) -> EndorsementView:
        return cls(
            id=found.id,
            micro_credential_id=found.micro_credential_id,
            version=found.version,
            origin=found.origin,
            endorser_name=found.endorser_name,
            endorser_id=found.endorser_id,
            recorded_at=found.recorded_at,
            withdrawn_at=found.withdrawn_at,
            credential=found.document,
        )


@router.post(
    PATH,
    status_code=201,
    summary="Record an endorsement (staff): an endorser's signed EndorsementCredential, "
    "verified before it is accepted, or one the centre issues for an endorser it manages",
    responses={
        422: {
            "description": "Not an endorsement of this micro-credential, or it "
            "does not verify: the failed checks in `errors`"
        }
    },
)
async def record(
    micro_credential_id: UUID,
    body: UploadedEndorsement | ManagedEndorsement,
    issuer: IssuerDep,
    verifier: VerifierDep,
    engine: Engine,
    staff: Principal = STAFF,
) -> EndorsementView:
    at = now()
    async with engine.begin() as conn:
        if isinstance(body, UploadedEndorsement):
            recorded = await endorsements.record_upload(
                conn,
                issuer,
                verifier,
                micro_credential_id,
                body.credential,
                by=staff.subject,
                at=at,
            )
        else:
            endorser = Endorser(body.endorser.name, str(body.endorser.url), body.endorser.email)
            recorded = await endorsements.issue_managed(
                conn,
                issuer,
                micro_credential_id,
                endorser,
                body.comment,
                version=body.version,
                by=staff.subject,
                at=at,
            )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.ENDORSEMENT_RECORD,
            "endorsement",
            recorded.id,
            micro_credential_id=str(micro_credential_id),
            origin=recorded.origin.value,
            endorser=recorded.endorser_name,
        )
    return EndorsementView.of(recorded)


@router.get(
    PATH,
    summary="The micro-credential's endorsements, current and withdrawn, oldest first (staff)",
)
async def listed(
    micro_credential_id: UUID,
    engine: Engine,
    cursor: Cursor = None,
    limit: Limit = 50,
    _: Principal = STAFF,
) -> Page[EndorsementView]:
    after = None
    if cursor is not None:
        recorded_at, last_id = decode_cursor(cursor, str, str)
        try:
            after = (datetime.fromisoformat(recorded_at), UUID(last_id))
        except ValueError:
            raise MalformedCursor("The cursor is not one this API gave out.") from None
    async with engine.connect() as conn:
        found = await endorsements.listed(conn, micro_credential_id, after=after, limit=limit + 1)
    return page_of(
        [EndorsementView.of(e) for e in found],
        limit,
        lambda e: (e.recorded_at.isoformat(), str(e.id)),
    )


@router.delete(
    PATH + "/{endorsement_id}",
    summary="Withdraw an endorsement (staff): credentials issued after no longer embed it; "
    "those already issued keep theirs",
)
async def withdraw(
    micro_credential_id: UUID,
    endorsement_id: UUID,
    engine: Engine,
    staff: Principal = STAFF,
) -> EndorsementView:
    async with engine.begin() as conn:
        found = await endorsements.withdraw(
            conn, micro_credential_id, endorsement_id, by=staff.subject, at=now()
        )
        await tables.audit.record_action(
            conn,
            staff,
            StaffAction.ENDORSEMENT_WITHDRAW,
            "endorsement",
            endorsement_id,
            micro_credential_id=str(micro_credential_id),
        )
    return EndorsementView.of(found)
