"""The W3C VC-API (https://w3c-ccg.github.io/vc-api/): issue, verify, status.

Verifiers answer 200 when valid and 422 with the failed checks when not (the W3C test
suites count a 200 with ``verified: false`` as a failure); a body that is not a credential
or presentation at all is 400 or 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from credstack import access
from credstack.audit import AuditEntry, StaffAction, current_trace_id
from credstack.clock import now
from credstack.problems import Problem
from credstack.service import Engine
from issuer import tables
from issuer.api.common import IssuerDep, VerifierDep
from issuer.api.status_cache import StatusListsDep
from issuer.usecases import vcapi

router = APIRouter(tags=["vc-api"])
ISSUING_SCOPES = ("issuer:manage", "vc:issue")
_bearer = HTTPBearer(auto_error=False)


@access.scheme(
    "bearer `issuer:manage` or `vc:issue` (anyone in the dev stack with ISSUER_VCAPI_OPEN_ISSUING)"
)
async def issuing_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Who issues: a token with ``issuer:manage`` (staff) or ``vc:issue`` (a trusted
    system); in the dev stack with ``ISSUER_VCAPI_OPEN_ISSUING``, anyone (the W3C suites)."""
    if request.app.state.vcapi_open_issuing:
        return "open (dev stack)"
    if credentials is None:
        raise Problem(
            401,
            "unauthorized",
            "Issuing needs a bearer token with issuer:manage or vc:issue.",
            headers={"WWW-Authenticate": 'Bearer realm="credstack"'},
        )
    principal = await request.app.state.authenticator.principal(credentials.credentials)
    if not set(ISSUING_SCOPES) & principal.scopes:
        raise Problem(403, "insufficient-scope", "Issuing needs issuer:manage or vc:issue.")
    return str(principal.subject)


class IssueOptions(BaseModel):
    model_config = ConfigDict(extra="allow")


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credential: dict[str, Any] = Field(description="A VC 2.0 credential, unsigned")
    options: IssueOptions = Field(default_factory=IssueOptions)


class Issued(BaseModel):
    verifiableCredential: dict[str, Any]


class VerifyOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    challenge: str | None = None
    domain: str | None = None


class VerifyCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    verifiableCredential: dict[str, Any]
    options: VerifyOptions = Field(default_factory=VerifyOptions)


class VerifyPresentationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    verifiablePresentation: dict[str, Any]
    options: VerifyOptions = Field(default_factory=VerifyOptions)


class VerificationResult(BaseModel):
    verified: bool
    checks: list[str]
    warnings: list[dict[str, str]]
    errors: list[dict[str, str]]
    credentialResults: list[dict[str, Any]] | None = None


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credentialId: str
    credentialStatus: list[StatusChange] | StatusChange


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["BitstringStatusListEntry"] = "BitstringStatusListEntry"
    statusPurpose: str
    status: bool = True


class StatusUpdated(BaseModel):
    credentialId: str
    status: str


StatusRequest.model_rebuild()


def _result(checks: list[Any], credentials: list[dict[str, Any]] | None = None) -> JSONResponse:
    errors = vcapi.errors_of(checks)
    result = VerificationResult(
        verified=not errors,
        checks=[c.name for c in checks if c.ok is True],
        warnings=[],
        errors=errors,
        credentialResults=credentials,
    )
    return JSONResponse(result.model_dump(exclude_none=True), status_code=422 if errors else 200)


INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "Not valid: the failed checks in `errors`"}
}


@router.post(
    "/credentials/issue",
    summary="Issue a VC 2.0 credential: the issuer adds its id, issuer, dates, status entry "
    "and eddsa-rdfc-2022 proof (staff or trusted systems)",
    status_code=201,
)
async def issue(
    request: IssueRequest,
    issuer: IssuerDep,
    engine: Engine,
    caller: Annotated[str, Depends(issuing_caller)],
) -> Issued:
    async with engine.begin() as conn:
        signed = await vcapi.issue(conn, issuer, request.credential, by=caller, at=now())
    return Issued(verifiableCredential=signed)


@router.post(
    "/credentials/verify",
    summary="Verify a credential: 200 when valid, 422 with the failed checks",
    response_model=VerificationResult,
    responses=INVALID,
)
@access.public
async def verify_credential(
    request: VerifyCredentialRequest, verifier: VerifierDep
) -> JSONResponse:
    verdict = await verifier.verify_document(request.verifiableCredential, now=now())
    return _result(verdict.checks)


@router.post(
    "/presentations/verify",
    summary="Verify a presentation (its authentication proof with the challenge and domain "
    "given, and each credential): 200 when valid, 422 with the failed checks",
    response_model=VerificationResult,
    responses=INVALID,
)
@access.public
async def verify_presentation(
    request: VerifyPresentationRequest, verifier: VerifierDep
) -> JSONResponse:
    checks, credentials = await vcapi.verify_presentation(
        verifier,
        request.verifiablePresentation,
        challenge=request.options.challenge,
        domain=request.options.domain,
        now=now(),
    )
    return _result(checks, credentials)


@router.post(
    "/credentials/status",
    summary="Set a VC-API credential's revocation or suspension bit (or clear suspension)",
)
async def update_status(
    request: StatusRequest,
    issuer: IssuerDep,
    engine: Engine,
    lists: StatusListsDep,
    caller: Annotated[str, Depends(issuing_caller)],
) -> StatusUpdated:
    credential_id = _credential_key(issuer.base_url, request.credentialId)
    changes = request.credentialStatus
    status = "active"
    async with engine.begin() as conn:
        for change in changes if isinstance(changes, list) else [changes]:
            status = await vcapi.update_status(
                conn, issuer, credential_id, change.statusPurpose, change.status, at=now()
            )
            entry = AuditEntry(
                actor=caller,
                action=STATUS_ACTIONS[status],
                target_type="credential",
                target_id=str(credential_id),
                details={"via": "vc-api", "purpose": change.statusPurpose, "set": change.status},
                at=now(),
                trace_id=current_trace_id(),
            )
            await tables.audit.record(conn, entry)
    lists.forget()  # committed: this process's verification sees it at once
    return StatusUpdated(credentialId=request.credentialId, status=status)


STATUS_ACTIONS = {
    "revoked": StaffAction.CREDENTIAL_REVOKE,
    "suspended": StaffAction.CREDENTIAL_SUSPEND,
    "active": StaffAction.CREDENTIAL_REINSTATE,
}


def _credential_key(base_url: str, credential_id: str) -> UUID:
    try:
        return UUID(credential_id.removeprefix(f"{base_url}/credentials/"))
    except ValueError:
        raise vcapi.NoVcapiCredential() from None
