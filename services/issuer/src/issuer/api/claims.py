"""Into the learner's wallet: claim offers (QR code and link) and the VC-API exchange that
Learner Credential Wallet follows (interaction URL, DID authentication, the bound copy)."""

from __future__ import annotations

import io
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID

import segno
from fastapi import APIRouter, Body
from fastapi.responses import Response
from pydantic import BaseModel, Field

from credstack import access
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.service import Engine
from issuer.api.common import IssuerDep, VerifierDep, documented
from issuer.identity import Issuer
from issuer.standards import oid4vci
from issuer.usecases import claims

router = APIRouter(tags=["wallet claims"])
LEARNER = require("learner")
PIN_LENGTH = 6


class ClaimOffer(BaseModel):
    claim_id: UUID
    expires_at: datetime
    interaction_url: str = Field(description="What the QR code holds: the protocols on offer")
    exchange_url: str = Field(description="The VC-API exchange")
    page_url: str = Field(description="The verification page showing this claim's QR code")
    qr_svg_url: str
    credential_offer: str = Field(
        description="OpenID4VCI: the openid-credential-offer:// link (pre-authorized code)"
    )
    pin: str | None = Field(
        default=None, description="The OpenID4VCI transaction code, when one was asked for"
    )


class OfferRequest(BaseModel):
    pin: bool = Field(default=False, description="Protect the OpenID4VCI offer with a PIN")


class Protocols(BaseModel):
    protocols: dict[str, str]


def qr_svg(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue()


def offer_link(issuer: Issuer, code: str, pin_length: int | None = None) -> str:
    offer = oid4vci.credential_offer(issuer.base_url, code, pin_length=pin_length)
    return oid4vci.offer_link(offer)


def claim_urls(
    issuer: Issuer, credential_id: UUID, code: str, pin_length: int | None = None
) -> dict[str, str]:
    return {
        "credential_offer": offer_link(issuer, code, pin_length),
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
    credential_id: UUID,
    issuer: IssuerDep,
    engine: Engine,
    options: OfferRequest = Body(default_factory=OfferRequest),
    learner: Principal = LEARNER,
) -> ClaimOffer:
    pin = f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}" if options.pin else None
    async with engine.begin() as conn:
        made = await claims.offer(conn, credential_id, learner.learner_id, at=now(), pin=pin)
    return ClaimOffer(
        claim_id=made.claim.id,
        expires_at=made.claim.expires_at,
        pin=pin,
        **claim_urls(issuer, credential_id, made.code, PIN_LENGTH if pin else None),
    )


@router.get(
    "/claims/{code}",
    summary="The interaction URL (the QR code's content): the protocols a wallet may use",
    responses={404: {"description": "No such claim"}, 409: {"description": "Claimed"}},
)
@access.public
async def interaction(code: str, issuer: IssuerDep, engine: Engine) -> Protocols:
    async with engine.begin() as conn:
        found = await claims.interaction(conn, code, at=now())
    pin_length = PIN_LENGTH if found.pin_hash else None
    return Protocols(
        protocols={
            "vcapi": claims.exchange_url(issuer, code),
            "OID4VCI": offer_link(issuer, code, pin_length),
        }
    )


@router.get(
    "/claims/{code}/qr.svg",
    summary="The claim's QR code (its interaction URL), SVG",
    response_class=Response,
    responses=documented("image/svg+xml", "The QR code", type="string"),
)
@access.public
async def claim_qr(code: str, issuer: IssuerDep, engine: Engine) -> Response:
    async with engine.begin() as conn:
        await claims.interaction(conn, code, at=now())
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
@access.scheme("claim code (single use)")
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
