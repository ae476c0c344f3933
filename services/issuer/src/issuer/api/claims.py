"""Into the learner's wallet: claim offers (QR code and link) and the VC-API exchange that
Learner Credential Wallet follows (interaction URL, DID authentication, the bound copy)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from uuid import UUID

import segno
from fastapi import APIRouter, Body
from fastapi.responses import Response
from pydantic import BaseModel, Field

from credstack.auth import Principal, require
from credstack.clock import now
from credstack.service import Engine
from issuer.api.common import IssuerDep, VerifierDep, documented
from issuer.identity import Issuer
from issuer.usecases import claims

router = APIRouter(tags=["wallet claims"])
LEARNER = require("learner")


class ClaimOffer(BaseModel):
    claim_id: UUID
    expires_at: datetime
    interaction_url: str = Field(description="What the QR code holds: the protocols on offer")
    exchange_url: str = Field(description="The VC-API exchange")
    page_url: str = Field(description="The verification page showing this claim's QR code")
    qr_svg_url: str


class Protocols(BaseModel):
    protocols: dict[str, str]


def qr_svg(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue()


def claim_urls(issuer: Issuer, credential_id: UUID, code: str) -> dict[str, str]:
    return {
        "interaction_url": claims.interaction_url(issuer, code),
        "exchange_url": claims.exchange_url(issuer, code),
        "page_url": f"{issuer.page_url(credential_id)}?claim={code}",
        "qr_svg_url": f"{issuer.base_url}/claims/{code}/qr.svg",
    }


@router.post(
    "/learners/me/credentials/{credential_id}/claims",
    summary="Offer one of my active credentials to my wallet: a single-use QR code and link "
    "(learner)",
    status_code=201,
)
async def offer_claim(
    credential_id: UUID, issuer: IssuerDep, engine: Engine, learner: Principal = LEARNER
) -> ClaimOffer:
    async with engine.begin() as conn:
        made = await claims.offer(conn, credential_id, learner.learner_id, at=now())
    return ClaimOffer(
        claim_id=made.claim.id,
        expires_at=made.claim.expires_at,
        **claim_urls(issuer, credential_id, made.code),
    )


@router.get(
    "/claims/{code}",
    summary="The interaction URL (the QR code's content): the protocols a wallet may use",
    responses={404: {"description": "No such claim"}, 409: {"description": "Claimed"}},
)
async def interaction(code: str, issuer: IssuerDep, engine: Engine) -> Protocols:
    async with engine.begin() as conn:
        exchange = await claims.interaction(conn, issuer, code, at=now())
    return Protocols(protocols={"vcapi": exchange})


@router.get(
    "/claims/{code}/qr.svg",
    summary="The claim's QR code (its interaction URL), SVG",
    response_class=Response,
    responses=documented("image/svg+xml", "The QR code", type="string"),
)
async def claim_qr(code: str, issuer: IssuerDep, engine: Engine) -> Response:
    async with engine.begin() as conn:
        await claims.interaction(conn, issuer, code, at=now())
    return Response(
        qr_svg(claims.interaction_url(issuer, code)),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


class ExchangeStep(BaseModel):
    verifiablePresentationRequest: dict[str, Any] | None = None
    verifiablePresentation: dict[str, Any] | None = None


@router.post(
    "/exchanges/{code}",
    summary="The VC-API exchange: an empty body asks for DID authentication (a one-time "
    "challenge and the domain); the wallet's signed presentation gets the credential "
    "bound to its holder DID",
    response_model_exclude_none=True,
)
async def exchange(
    code: str,
    issuer: IssuerDep,
    verifier: VerifierDep,
    engine: Engine,
    body: dict[str, Any] = Body(default_factory=dict),
) -> ExchangeStep:
    presentation = body.get("verifiablePresentation")
    async with engine.begin() as conn:
        if not isinstance(presentation, dict):
            request = await claims.did_auth_request(conn, issuer, code, at=now())
            return ExchangeStep(verifiablePresentationRequest=request)
        bound = await claims.complete_with_presentation(
            conn, issuer, verifier, code, presentation, at=now()
        )
    return ExchangeStep(
        verifiablePresentation={
            "@context": [claims.VC_CONTEXT],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [bound],
        }
    )
