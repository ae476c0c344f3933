"""Badge images baked with the credential (OB 3.0) or its hosted assertion (OB 2.0), and
the printable PDF certificate."""

from __future__ import annotations

import json
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack import access
from credstack.service import Engine
from issuer import faces
from issuer.api.common import BINARY, IssuerDep, documented, stored
from issuer.domain import Credential
from issuer.identity import Issuer
from issuer.standards import badge_baking, openbadges2

router = APIRouter()
PNG = documented("image/png", "The baked badge image", **BINARY)
SVG = documented("image/svg+xml", "The baked badge image", **BINARY)


def _face(found: Credential, issuer: Issuer) -> badge_baking.BadgeFace:
    return faces.credential_face(
        found.document, learner_name=found.recipient_name, verify_url=issuer.page_url(found.id)
    )


async def _baked(
    credential_id: UUID, issuer: Issuer, engine: AsyncEngine, *, ob2: bool, svg: bool
) -> Response:
    """The badge image baked with the OB 3.0 credential, or with the OB 2.0 hosted assertion."""
    found = await stored(engine, credential_id)
    face = _face(found, issuer)
    if ob2:
        assertion = openbadges2.assertion(
            found.document, credential_id=found.id, base_url=issuer.base_url
        )
        if svg:
            return Response(badge_baking.svg(face, assertion=assertion), media_type="image/svg+xml")
        data = badge_baking.png(
            face, keyword=badge_baking.OB2_PNG_KEYWORD, payload=json.dumps(assertion)
        )
        return Response(data, media_type="image/png")
    if svg:
        baked = badge_baking.svg(face, credential=found.document)
        return Response(baked, media_type="image/svg+xml")
    data = badge_baking.png(
        face, keyword=badge_baking.OB3_PNG_KEYWORD, payload=json.dumps(found.document)
    )
    return Response(data, media_type="image/png")


@router.get(
    "/credentials/{credential_id}/image.png",
    tags=["images"],
    summary="Badge image, baked with the OB 3.0 credential (iTXt openbadgecredential)",
    response_class=Response,
    responses=PNG,
)
@access.public
async def ob3_png(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=False, svg=False)


@router.get(
    "/credentials/{credential_id}/image.svg",
    tags=["images"],
    summary="Badge image, baked with the OB 3.0 credential (openbadges:credential)",
    response_class=Response,
    responses=SVG,
)
@access.public
async def ob3_svg(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=False, svg=True)


@router.get(
    "/credentials/{credential_id}/ob2.png",
    tags=["images"],
    summary="Badge image, baked with the OB 2.0 hosted assertion (iTXt openbadges)",
    response_class=Response,
    responses=PNG,
)
@access.public
async def ob2_png(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=True, svg=False)


@router.get(
    "/credentials/{credential_id}/ob2.svg",
    tags=["images"],
    summary="Badge image, baked with the OB 2.0 hosted assertion (openbadges:assertion)",
    response_class=Response,
    responses=SVG,
)
@access.public
async def ob2_svg(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=True, svg=True)


@router.get(
    "/credentials/{credential_id}/certificate.pdf",
    tags=["images"],
    summary="Printable PDF certificate",
    response_class=Response,
    responses=documented("application/pdf", "The certificate", **BINARY),
)
@access.public
async def certificate_pdf(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    # Imported on the first certificate asked for: fpdf adds about 20 MB to the process, and
    # most issuer replicas (issuing, verification) never render one.
    from issuer.standards import pdf_certificate

    found = await stored(engine, credential_id)
    data = pdf_certificate.pdf(
        _face(found, issuer), issuer_name=issuer.profile.name, credential_url=found.url
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{credential_id}.pdf"'},
    )
