"""The issuer's public keys as JWKs: the JWKS and each key at its ``kid`` URL (VC-JWT)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from credstack import access
from credstack.refusals import NotFound
from issuer.api.common import IssuerDep, documented
from issuer.standards import vc_jwt

router = APIRouter()


class NoSuchKey(NotFound):
    code = "no-such-key"


JWK_SET = "application/jwk-set+json"
JWK = "application/jwk+json"


class JwkSet(JSONResponse):
    media_type = JWK_SET


class Jwk(JSONResponse):
    media_type = JWK


def _jwks(issuer: IssuerDep) -> list[dict[str, Any]]:
    keys = issuer.signing.keys
    return [
        vc_jwt.jwk(keys.jwt_key(issuer.base_url, kid), kid)
        for kid in keys.jwt_key_ids(issuer.base_url)
    ]


@router.get(
    "/.well-known/jwks.json",
    tags=["issuer"],
    summary="The issuer's VC-JWT keys (RS256, and Ed25519 for EdDSA) as a JWK Set",
    response_class=JwkSet,
    responses=documented(JWK_SET, "The JWK Set"),
)
@access.public
async def jwks(issuer: IssuerDep) -> JwkSet:
    return JwkSet({"keys": _jwks(issuer)}, headers={"Cache-Control": "public, max-age=300"})


@router.get(
    "/keys/{name}",
    tags=["issuer"],
    summary="One VC-JWT key as a JWK: what a VC-JWT's `kid` dereferences to",
    response_class=Jwk,
    responses={**documented(JWK, "The public JWK"), 404: {"description": "No such key"}},
)
@access.public
async def jwk(name: str, issuer: IssuerDep) -> Jwk:
    kid = f"{issuer.base_url}/keys/{name}"
    try:
        key = issuer.signing.keys.jwt_key(issuer.base_url, kid)
    except LookupError as error:
        raise NoSuchKey(str(error)) from error
    return Jwk(vc_jwt.jwk(key, kid), headers={"Cache-Control": "public, max-age=300"})
