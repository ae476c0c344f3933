"""OpenID for Verifiable Credential Issuance 1.0 (pre-authorized code flow, ``ldp_vc``):
issuer and authorization server metadata, token, nonce and credential endpoints.

Errors of the token and credential endpoints are OAuth error objects (``{"error": ...}``),
as OpenID4VCI clients expect, not problem details.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from credstack import access
from credstack.clock import now
from credstack.refusals import Refusal
from credstack.service import Engine
from issuer.api.common import IssuerDep
from issuer.standards import oid4vci
from issuer.standards.openbadges3 import OB_CONTEXT, OB_EXTENSIONS_CONTEXT, VC_CONTEXT
from issuer.usecases import claims
from issuer.wallet_claims import AlreadyClaimed, ClaimExpired, WrongPin

router = APIRouter(tags=["openid4vci"])

_OAUTH_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    "required": ["error"],
}
#: OAuth error objects (RFC 6749 § 5.2; OpenID4VCI § 8.3.1), which clients parse.
OAUTH_ERRORS_DOC: dict[int | str, dict[str, Any]] = {
    status: {"description": why, "content": {"application/json": {"schema": _OAUTH_ERROR}}}
    for status, why in ((400, "OAuth error"), (401, "invalid_token"))
}

OAUTH_ERRORS = {
    claims.InvalidGrant: "invalid_grant",
    WrongPin: "invalid_grant",
    ClaimExpired: "invalid_grant",
    AlreadyClaimed: "invalid_grant",
    claims.InvalidToken: "invalid_token",
}


def _oauth_error(refusal: Refusal, default: str) -> JSONResponse:
    error = OAUTH_ERRORS.get(type(refusal), default)
    status = 401 if error == "invalid_token" else 400
    return JSONResponse({"error": error, "error_description": refusal.detail}, status_code=status)


@router.get(
    "/.well-known/openid-credential-issuer",
    summary="OpenID4VCI credential issuer metadata",
    response_model=dict[str, Any],
)
@access.public
async def issuer_metadata(issuer: IssuerDep) -> dict[str, Any]:
    contexts = [VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT]
    return oid4vci.issuer_metadata(issuer.base_url, contexts)


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="OAuth 2.0 authorization server metadata (the OpenID4VCI token endpoint)",
    response_model=dict[str, Any],
)
@access.public
async def authorization_server_metadata(issuer: IssuerDep) -> dict[str, Any]:
    return oid4vci.authorization_server_metadata(issuer.base_url)


@router.post(
    "/oid4vci/token",
    summary="Token endpoint: a pre-authorized code (and PIN) for an access token",
    response_model=dict[str, Any],
    responses=OAUTH_ERRORS_DOC,
)
@access.scheme("OpenID4VCI pre-authorized code (and PIN)")
async def token(request: Request, issuer: IssuerDep, engine: Engine) -> JSONResponse:
    # the form is read with the standard library (three fields; no multipart parser needed)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
    grant_type = form.get("grant_type")
    pre_authorized_code = form.get("pre-authorized_code")
    tx_code = form.get("tx_code")
    if grant_type != oid4vci.PRE_AUTHORIZED_GRANT or not pre_authorized_code:
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    at = now()
    try:
        async with engine.begin() as conn:
            access, lifetime = await claims.redeem_pre_authorized_code(
                conn, pre_authorized_code, tx_code, at=at
            )
    except Refusal as refusal:
        return _oauth_error(refusal, "invalid_grant")
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "c_nonce": claims.new_nonce(issuer, at=at),
            "c_nonce_expires_in": claims.NONCE_LIFETIME_S,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/oid4vci/nonce",
    summary="Nonce endpoint: a fresh c_nonce for the proof of possession",
    response_model=dict[str, Any],
)
@access.public
async def nonce(issuer: IssuerDep) -> JSONResponse:
    return JSONResponse(
        {"c_nonce": claims.new_nonce(issuer, at=now())}, headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/oid4vci/credential",
    summary="Credential endpoint: the credential bound to the DID that proved possession",
    response_model=dict[str, Any],
    responses=OAUTH_ERRORS_DOC,
)
@access.scheme("OpenID4VCI access token")
async def credential(
    request: Request,
    issuer: IssuerDep,
    engine: Engine,
    authorization: Annotated[str, Header()] = "",
) -> JSONResponse:
    scheme, _, access = authorization.partition(" ")
    if scheme.lower() != "bearer" or not access:
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "invalid_credential_request"}, status_code=400)
    proof_jwt = _proof_jwt(body)
    if body.get("credential_configuration_id", oid4vci.CONFIGURATION_ID) != (
        oid4vci.CONFIGURATION_ID
    ):
        return JSONResponse({"error": "unknown_credential_configuration"}, status_code=400)
    if proof_jwt is None:
        return JSONResponse(
            {"error": "invalid_proof", "error_description": "send one jwt proof"},
            status_code=400,
        )
    try:
        async with engine.begin() as conn:
            bound = await claims.credential_for_proof(conn, issuer, access, proof_jwt, at=now())
    except Refusal as refusal:
        return _oauth_error(refusal, "invalid_proof")
    return JSONResponse({"credentials": [{"credential": bound}]})


def _proof_jwt(body: Any) -> str | None:
    """The one JWT proof: ``proofs.jwt[0]`` (1.0) or ``proof.jwt`` (earlier drafts)."""
    if not isinstance(body, dict):
        return None
    proofs = body.get("proofs")
    if isinstance(proofs, dict) and isinstance(proofs.get("jwt"), list) and proofs["jwt"]:
        first = proofs["jwt"][0]
        return first if isinstance(first, str) else None
    proof = body.get("proof")
    if isinstance(proof, dict) and proof.get("proof_type") == "jwt":
        jwt = proof.get("jwt")
        return jwt if isinstance(jwt, str) else None
    return None
