"""Verifying credentials: any credential POSTed (JSON, VC-JWT, baked image), and the public
verification page of each credential this issuer holds."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel

from credstack import access
from credstack.clock import now
from credstack.refusals import Reason, Refusal
from credstack.service import Engine
from issuer import faces, pages
from issuer.api.claims import qr_svg
from issuer.api.common import IssuerDep, VerifierDep, documented, stored
from issuer.domain import Credential, CredentialNotFound, Status
from issuer.endorsements import endorser_name, issuer_id
from issuer.identity import Issuer
from issuer.standards import openbadges2
from issuer.usecases import claims, endorsements
from issuer.verification import Verdict, Verifier

router = APIRouter()

#: The largest body POST /verify reads (a baked image with its credential is far smaller).
MAX_VERIFY_BYTES = 5 * 1024 * 1024


class TooLarge(Refusal):
    code = "too-large"
    reason = Reason.TOO_LARGE


class EmptyBody(Refusal):
    code = "empty-body"
    reason = Reason.MALFORMED


class CheckResult(BaseModel):
    name: str
    ok: bool | None
    detail: str


class VerdictModel(BaseModel):
    verified: bool
    format: str
    checks: list[CheckResult]
    credential: dict[str, Any] | None


@router.post(
    "/verify",
    tags=["verification"],
    summary="Verify a credential: JSON, a VC-JWT (text/plain) or a baked PNG/SVG image",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {},
                "text/plain": {},
                "image/png": {},
                "image/svg+xml": {},
            },
        }
    },
)
@access.public
async def verify(request: Request, verifier: VerifierDep) -> VerdictModel:
    body = await request.body()
    if len(body) > MAX_VERIFY_BYTES:
        raise TooLarge(f"Send at most {MAX_VERIFY_BYTES // 1024 // 1024} MiB.")
    if not body.strip():
        raise EmptyBody("Send a credential: JSON, a VC-JWT or a baked image.")
    verdict = await verifier.verify(body, request.headers.get("content-type", ""), now=now())
    return VerdictModel.model_validate(verdict.as_json())


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
    responses={
        **documented("text/html", "The page", type="string"),
        404: {
            "description": "No such credential: an HTML page for browsers (Accept: text/html), "
            "else a problem detail",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/problem+json": {"schema": {"type": "object"}},
            },
        },
        422: {
            "description": "A malformed query (language, claim code): a problem detail",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        },
    },
)
@access.public
async def verification_page(
    credential_id: UUID,
    request: Request,
    issuer: IssuerDep,
    verifier: VerifierDep,
    engine: Engine,
    lang: Annotated[str | None, Query(max_length=35, description="en or fr")] = None,
    claim: Annotated[
        str | None,
        Query(max_length=64, description="A wallet claim code: the page shows its QR"),
    ] = None,
) -> HTMLResponse:
    language = pages.page_language(lang, request.headers.get("accept-language", ""))
    headers = {"Content-Language": language, "Vary": "Accept-Language"}
    texts = pages.TEXTS[language]
    try:
        found = await stored(engine, credential_id)
    except CredentialNotFound:
        if not _wants_html(request):
            raise
        page = _templates().get_template("not_found.html")
        shown = page.render(language=language, t=texts, issuer_name=issuer.profile.name)
        return HTMLResponse(shown, status_code=404, headers=headers)
    checked_at = now()
    verdict = await verifier.verify_document(found.document, now=checked_at)
    page = _templates().get_template("credential.html")
    facts = _page(found, verdict, issuer, checked_at, language)
    facts["endorsements"] = await _endorsements(
        found.document, verifier, engine, issuer, checked_at
    )
    if claim is not None:
        async with engine.begin() as conn:
            if await claims.open_offer_of(conn, claim, credential_id, at=checked_at):
                link = claims.interaction_url(issuer, claim)
                facts["claim_link"] = link
                facts["claim_qr"] = Markup(qr_svg(link).decode())  # segno's own SVG
    return HTMLResponse(page.render(language=language, t=texts, **facts), headers=headers)


async def _endorsements(
    document: dict[str, Any], verifier: Verifier, engine: Engine, issuer: Issuer, at: datetime
) -> list[dict[str, Any]]:
    """Each endorsement embedded in the achievement, checked on its own: who endorses, and
    whether its own proof (and dates, schema) verify."""
    embedded = [
        e
        for e in document["credentialSubject"]["achievement"].get("endorsement", [])
        if isinstance(e, dict)
    ]
    if not embedded:
        return []
    async with engine.connect() as conn:
        names = await endorsements.endorser_names(conn, [str(e.get("id")) for e in embedded])
    shown = []
    for endorsement in embedded:
        trusting, _ = await endorsements.endorser_verifier(
            verifier, issuer.profile.did, endorsement
        )
        verdict = await trusting.verify_document(endorsement, now=at)
        by_centre = issuer_id(endorsement) == issuer.profile.did
        subject = endorsement.get("credentialSubject")
        comment = subject.get("endorsementComment") if isinstance(subject, dict) else None
        shown.append(
            {
                "name": names.get(str(endorsement.get("id"))) or endorser_name(endorsement),
                "verified": verdict.verified,
                "comment": None if by_centre else comment,
                "signed_by": issuer.profile.name if by_centre else None,
            }
        )
    return shown


def _wants_html(request: Request) -> bool:
    """A browser asking for a page (its Accept names text/html), not an API client."""
    return "text/html" in request.headers.get("accept", "").lower()


def _page(
    found: Credential, verdict: Verdict, issuer: Issuer, checked_at: datetime, language: str
) -> dict[str, Any]:
    """What the verification page shows of the credential and its verdict."""
    document = found.document
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    failed = [check for check in verdict.checks if check.ok is not True]
    base = f"{issuer.base_url}/credentials/{found.id}"
    results = subject.get("result", [])
    return {
        "verified": verdict.verified,
        "problem": f"{failed[0].name}: {failed[0].detail}" if failed else "",
        "checks": verdict.checks,
        "heading": pages.kind_heading(found.kind, language),
        "title": faces.plain_title(achievement),
        "language_note": pages.taught_in(achievement, language),
        "learner_name": found.recipient_name,
        "issuer_name": issuer.profile.name,
        "issuer_did": issuer.profile.did,
        "issued_on": pages.long_date(document["validFrom"], language),
        "awarded_on": _date(document, "awardedDate", language),
        "expires_on": _date(document, "validUntil", language),
        "details": faces.details(achievement, subject),
        "score": f"{results[0]['value']}%" if results else None,
        "code": achievement.get("humanCode"),
        "description": achievement["description"],
        "criteria": achievement["criteria"].get("narrative", ""),
        "alignments": achievement.get("alignment", []),
        "evidence": document.get("evidence", []),
        "credential_url": document["id"],
        "image_url": f"{base}/image.png",
        "png_url": f"{base}/image.png",
        "svg_url": f"{base}/image.svg",
        "pdf_url": f"{base}/certificate.pdf",
        "ob2_url": openbadges2.assertion_url(issuer.base_url, found.id),
        # Never offered for a revoked or suspended credential.
        "linkedin_url": faces.linkedin_url(
            document,
            credential_id=found.id,
            page_url=issuer.page_url(found.id),
            issuer_name=issuer.profile.name,
        )
        if found.status == Status.ACTIVE
        else None,
        "checked_at": checked_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def _date(document: dict[str, Any], key: str, language: str) -> str | None:
    return pages.long_date(document[key], language) if key in document else None
