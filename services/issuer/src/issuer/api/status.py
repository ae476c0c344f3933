"""Revoking, suspending and reinstating credentials; the signed status lists."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack import access
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.service import Engine
from issuer import tables
from issuer.api.common import VC_MEDIA_TYPE, IssuerDep, VcJson, documented
from issuer.api.status_cache import StatusListCache, StatusListsDep
from issuer.domain import Action, Status
from issuer.identity import Issuer
from issuer.usecases import readmodels, status

router = APIRouter()
STAFF = require("issuer:manage")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=3, max_length=500, description="Shown to verifiers and the learner"
    )


class Reinstatement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="Reinstated", max_length=500)


class StatusChanged(BaseModel):
    id: UUID
    status: Status
    reason: str


AUDITED = {
    Action.REVOKE: StaffAction.CREDENTIAL_REVOKE,
    Action.SUSPEND: StaffAction.CREDENTIAL_SUSPEND,
    Action.REINSTATE: StaffAction.CREDENTIAL_REINSTATE,
}


async def _change(
    engine: AsyncEngine,
    issuer: Issuer,
    lists: StatusListCache,
    credential_id: UUID,
    action: Action,
    reason: str,
    staff: Principal,
) -> StatusChanged:
    async with engine.begin() as conn:
        after = await status.change_status(
            conn, issuer, credential_id, action, reason=reason, at=now()
        )
        await tables.audit.record_action(
            conn, staff, AUDITED[action], "credential", credential_id, reason=reason
        )
    lists.forget()  # committed: this process's verification sees it at once
    return StatusChanged(id=credential_id, status=after, reason=reason)


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
    lists: StatusListsDep,
    staff: Principal = STAFF,
) -> StatusChanged:
    return await _change(engine, issuer, lists, credential_id, Action.REVOKE, change.reason, staff)


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
    lists: StatusListsDep,
    staff: Principal = STAFF,
) -> StatusChanged:
    return await _change(engine, issuer, lists, credential_id, Action.SUSPEND, change.reason, staff)


@router.post(
    "/credentials/{credential_id}/reinstate",
    tags=["status"],
    summary="Reinstate a suspended credential (staff); publishes CredentialReinstated",
)
async def reinstate(
    credential_id: UUID,
    issuer: IssuerDep,
    engine: Engine,
    lists: StatusListsDep,
    change: Reinstatement = Body(default_factory=Reinstatement),
    staff: Principal = STAFF,
) -> StatusChanged:
    return await _change(
        engine, issuer, lists, credential_id, Action.REINSTATE, change.reason, staff
    )


@router.get(
    "/status-lists/{number}/{purpose}",
    tags=["status"],
    summary="A signed BitstringStatusListCredential (public, stable URL)",
    response_class=VcJson,
    responses=documented(VC_MEDIA_TYPE, "The signed BitstringStatusListCredential"),
)
@access.public
async def status_list(number: int, purpose: str, engine: Engine) -> VcJson:
    async with engine.connect() as conn:
        document = await readmodels.status_list(conn, number, purpose)
    # the list's own ``ttl`` (milliseconds) and the HTTP cache agree
    max_age = document["credentialSubject"].get("ttl", 0) // 1000
    return VcJson(document, headers={"Cache-Control": f"public, max-age={max_age}"})
