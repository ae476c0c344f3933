"""Public documents for people and backpacks: OB 2.0 hosted assertions, achievements,
baked images, the verification page and the printable certificate."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.clock import now
from credstack.problems import Problem
from credstack.service import Engine
from issuer import baking, certificate, faces, openbadge2, repository
from issuer.api import IssuerDep, VerifierDep, stored_row
from issuer.domain import Status, achievement_url, stack_url
from issuer.usecases import Issuer

router = APIRouter()

LD_JSON = "application/ld+json"


def _json(document: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(document, status_code=status, media_type=LD_JSON)


@router.get("/ob2/issuer", tags=["open badges 2.0"], summary="The OB 2.0 Issuer profile")
async def ob2_issuer(issuer: IssuerDep) -> JSONResponse:
    return _json(openbadge2.issuer_profile(issuer.profile, base_url=issuer.base_url))


@router.get(
    "/ob2/assertions/{credential_id}",
    tags=["open badges 2.0"],
    summary="The OB 2.0 hosted Assertion of a credential (410 Gone once revoked)",
)
async def ob2_assertion(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> JSONResponse:
    row = await stored_row(engine, credential_id)
    reason = None
    if row.status == Status.REVOKED:
        reason = row.status_reason or "revoked"
    elif row.status == Status.SUSPENDED:
        reason = f"Suspended: {row.status_reason or 'under review'}"
    document = openbadge2.assertion(
        row.document, credential_id=row.id, base_url=issuer.base_url, revocation_reason=reason
    )
    return _json(document, 410 if row.status == Status.REVOKED else 200)


async def _achievement(engine: Engine, achievement_id: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        found = await repository.achievement_document(conn, achievement_id)
    if found is None:
        raise Problem(404, "not-found", "No credential has been issued for this achievement yet.")
    return found


async def _achievement_response(
    engine: Engine, base_url: str, achievement_id: str, part: str
) -> Response:
    found = await _achievement(engine, achievement_id)
    if part == "badge":
        return _json(openbadge2.badge_class(found, base_url=base_url))
    if part == "image.png":
        return Response(baking.png(faces.achievement_face(found)), media_type="image/png")
    return _json(found)


def _achievement_endpoint(path_of: Any, part: str) -> Any:
    async def endpoint(request: Request, issuer: IssuerDep, engine: Engine) -> Response:
        achievement_id = path_of(issuer.base_url, request.path_params)
        return await _achievement_response(engine, issuer.base_url, achievement_id, part)

    return endpoint


def _achievement_routes(prefix: str, path_of: Any) -> None:
    summaries = {
        "": "The OB 3.0 Achievement (JSON-LD)",
        "badge": "Its OB 2.0 BadgeClass",
        "image.png": "Its badge image",
    }
    for part, summary in summaries.items():
        router.add_api_route(
            prefix + (f"/{part}" if part else ""),
            _achievement_endpoint(path_of, part),
            methods=["GET"],
            tags=["achievements"],
            summary=summary,
            name=f"{prefix}/{part}",
        )


_achievement_routes(
    "/achievements/{micro_credential_id}/versions/{version}",
    lambda base, p: achievement_url(base, p["micro_credential_id"], p["version"]),
)
_achievement_routes(
    "/achievements/{micro_credential_id}/versions/{version}/attendance",
    lambda base, p: achievement_url(base, p["micro_credential_id"], p["version"]) + "/attendance",
)
_achievement_routes(
    "/stacks/{stack_id}/versions/{version}",
    lambda base, p: stack_url(base, p["stack_id"], p["version"]),
)


def _face(row: Any, base_url: str) -> baking.BadgeFace:
    return faces.credential_face(
        row.document, learner_name=row.recipient_name, verify_url=f"{base_url}/verify/{row.id}"
    )


async def _baked(
    credential_id: UUID, issuer: Issuer, engine: AsyncEngine, *, ob2: bool, svg: bool
) -> Response:
    """The badge image baked with the OB 3.0 credential, or with the OB 2.0 hosted assertion."""
    row = await stored_row(engine, credential_id)
    face = _face(row, issuer.base_url)
    if ob2:
        assertion = openbadge2.assertion(
            row.document, credential_id=row.id, base_url=issuer.base_url
        )
        if svg:
            return Response(baking.svg(face, assertion=assertion), media_type="image/svg+xml")
        data = baking.png(face, keyword=baking.OB2_PNG_KEYWORD, payload=json.dumps(assertion))
        return Response(data, media_type="image/png")
    if svg:
        return Response(baking.svg(face, credential=row.document), media_type="image/svg+xml")
    data = baking.png(face, keyword=baking.OB3_PNG_KEYWORD, payload=json.dumps(row.document))
    return Response(data, media_type="image/png")


@router.get(
    "/credentials/{credential_id}/image.png",
    tags=["images"],
    summary="Badge image, baked with the OB 3.0 credential (iTXt openbadgecredential)",
    response_class=Response,
)
async def ob3_png(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=False, svg=False)


@router.get(
    "/credentials/{credential_id}/image.svg",
    tags=["images"],
    summary="Badge image, baked with the OB 3.0 credential (openbadges:credential)",
    response_class=Response,
)
async def ob3_svg(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=False, svg=True)


@router.get(
    "/credentials/{credential_id}/ob2.png",
    tags=["images"],
    summary="Badge image, baked with the OB 2.0 hosted assertion (iTXt openbadges)",
    response_class=Response,
)
async def ob2_png(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=True, svg=False)


@router.get(
    "/credentials/{credential_id}/ob2.svg",
    tags=["images"],
    summary="Badge image, baked with the OB 2.0 hosted assertion (openbadges:assertion)",
    response_class=Response,
)
async def ob2_svg(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    return await _baked(credential_id, issuer, engine, ob2=True, svg=True)


@router.get(
    "/credentials/{credential_id}/certificate.pdf",
    tags=["images"],
    summary="Printable PDF certificate",
    response_class=Response,
)
async def certificate_pdf(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> Response:
    row = await stored_row(engine, credential_id)
    data = certificate.pdf(
        _face(row, issuer.base_url),
        issuer_name=issuer.profile.name,
        credential_url=row.document["id"],
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{credential_id}.pdf"'},
    )


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("issuer", "templates"), autoescape=select_autoescape(["html"])
    )


@router.get(
    "/verify/{credential_id}",
    tags=["verification"],
    summary="The credential's public verification page (HTML)",
    response_class=HTMLResponse,
)
async def verification_page(
    credential_id: UUID, issuer: IssuerDep, verifier: VerifierDep, engine: Engine
) -> HTMLResponse:
    row = await stored_row(engine, credential_id)
    document = row.document
    checked_at = now()
    verdict = await verifier.verify_document(document, now=checked_at)
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    failed = [check for check in verdict.checks if check.ok is not True]
    base = f"{issuer.base_url}/credentials/{credential_id}"
    page_url = f"{issuer.base_url}/verify/{credential_id}"
    results = subject.get("result", [])
    html = (
        _templates()
        .get_template("credential.html")
        .render(
            verified=verdict.verified,
            problem=f"{failed[0].name}: {failed[0].detail}" if failed else "",
            checks=verdict.checks,
            heading=faces.HEADINGS[row.kind],
            title=faces.plain_title(achievement),
            language_note=faces.language_label(achievement),
            learner_name=row.recipient_name,
            issuer_name=issuer.profile.name,
            issuer_did=issuer.profile.did,
            issued_on=faces.long_date(document["validFrom"]),
            awarded_on=faces.long_date(document["awardedDate"])
            if "awardedDate" in document
            else None,
            expires_on=faces.long_date(document["validUntil"])
            if "validUntil" in document
            else None,
            details=faces.details(achievement, subject),
            score=f"{results[0]['value']}%" if results else None,
            code=achievement.get("humanCode"),
            description=achievement["description"],
            criteria=achievement["criteria"].get("narrative", ""),
            alignments=achievement.get("alignment", []),
            evidence=document.get("evidence", []),
            credential_url=document["id"],
            image_url=f"{base}/image.png",
            png_url=f"{base}/image.png",
            svg_url=f"{base}/image.svg",
            pdf_url=f"{base}/certificate.pdf",
            ob2_url=openbadge2.assertion_url(issuer.base_url, credential_id),
            linkedin_url=faces.linkedin_url(
                document,
                credential_id=credential_id,
                page_url=page_url,
                issuer_name=issuer.profile.name,
            ),
            checked_at=checked_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    return HTMLResponse(html)
