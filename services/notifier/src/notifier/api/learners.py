"""A signed-in learner's message preferences."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from credstack import access
from credstack.auth import Principal, learner_id_for, require
from credstack.clock import now
from credstack.problems import Problem
from credstack.service import Engine
from notifier.api.common import HTML_PAGE, pages
from notifier.compose import shipped_languages
from notifier.domain import CredentialStatus, Stage, choose_language
from notifier.pages import learner_texts
from notifier.repository import contacts
from notifier.usecases import learners
from notifier.usecases.sending import linkedin_url

router = APIRouter(tags=["learners"])
LEARNER = require("learner")


class PreferencesView(BaseModel):
    language: str | None = Field(
        default=None,
        max_length=35,
        description="Language of your messages (en, fr); none: the course's, else English",
    )
    reminders: bool = Field(default=True, description="Optional reminders (never receipts)")
    languages: list[str] = Field(default=[], description="Languages messages are written in")


class PreferencesRequest(BaseModel):
    language: str | None = Field(default=None, max_length=35)
    reminders: bool = True


def _view(chosen: contacts.Preferences) -> PreferencesView:
    return PreferencesView(
        language=chosen.language,
        reminders=chosen.reminders,
        languages=sorted(shipped_languages()),
    )


@router.get("/learners/me/preferences", summary="Your message preferences")
async def my_preferences(engine: Engine, learner: Principal = LEARNER) -> PreferencesView:
    async with engine.connect() as conn:
        return _view(await contacts.preferences_of(conn, learner_id_for(learner.subject)))


@router.put("/learners/me/preferences", summary="Choose your message preferences")
async def choose_preferences(
    body: PreferencesRequest, engine: Engine, learner: Principal = LEARNER
) -> PreferencesView:
    async with engine.begin() as conn:
        chosen = await learners.choose(
            conn,
            learner_id_for(learner.subject),
            contacts.Preferences(body.language, body.reminders),
            now(),
        )
    return _view(chosen)


class Waiting(BaseModel):
    what: str = Field(description="declaration | seat_offer | payment_or_seat | nothing")
    until: datetime | None = Field(default=None, description="A seat offer's deadline")


class EnrolmentItem(BaseModel):
    id: UUID
    title: str | None
    starts_on: date | None
    ends_on: date | None
    taught_in: str | None = Field(description="Language of instruction, BCP 47")
    stage: str
    waiting_for: Waiting
    result: str | None = Field(description="passed | not_yet | null")


class CredentialItem(BaseModel):
    id: UUID
    kind: str
    title: str | None
    status: str
    issued_at: datetime
    json_url: str
    png_url: str
    svg_url: str
    pdf_url: str
    verify_url: str
    linkedin_url: str | None = Field(description="None for a revoked or suspended credential")


class StackItem(BaseModel):
    id: UUID
    title: str
    held: int
    required: int


class LearnerPageView(BaseModel):
    name: str | None
    email: str | None
    enrolments: list[EnrolmentItem]
    credentials: list[CredentialItem]
    stacks: list[StackItem]
    clr_url: str
    preferences: PreferencesView


def _waiting(row: Any) -> Waiting:
    if row.stage == Stage.DECLARATION:
        return Waiting(what="declaration")
    if row.stage == Stage.SEAT_OFFERED:
        return Waiting(what="seat_offer", until=row.offer_expires_at)
    if row.stage == Stage.REQUESTED:
        return Waiting(what="payment_or_seat")
    return Waiting(what="nothing")


@router.get("/learners/me/page", summary="What the learner page shows (signed-in learner)")
async def my_page(
    request: Request, engine: Engine, learner: Principal = LEARNER
) -> LearnerPageView:
    issuer_url = request.app.state.settings.issuer_url
    organisation = request.app.state.settings.organisation_name
    async with engine.connect() as conn:
        shown = await learners.page(conn, learner_id_for(learner.subject))
    credentials = []
    for c in shown.credentials:
        verify = f"{issuer_url}/verify/{c.id}"
        credentials.append(
            CredentialItem(
                id=c.id,
                kind=c.kind,
                title=c.title,
                status=c.status,
                issued_at=c.issued_at,
                json_url=c.url,
                png_url=f"{issuer_url}/credentials/{c.id}/image.png",
                svg_url=f"{issuer_url}/credentials/{c.id}/image.svg",
                pdf_url=f"{issuer_url}/credentials/{c.id}/certificate.pdf",
                verify_url=verify,
                linkedin_url=linkedin_url(
                    c.title or "", organisation, verify, str(c.id), c.issued_at.isoformat()
                )
                if c.status == CredentialStatus.ACTIVE
                else None,
            )
        )
    return LearnerPageView(
        name=shown.contact.name if shown.contact else None,
        email=shown.contact.email if shown.contact else None,
        enrolments=[
            EnrolmentItem(
                id=e.id,
                title=e.title,
                starts_on=e.starts_on,
                ends_on=e.ends_on,
                taught_in=e.language,
                stage=e.stage,
                waiting_for=_waiting(e),
                result=e.result,
            )
            for e in shown.enrolments
        ],
        credentials=credentials,
        stacks=[
            StackItem(id=s.stack_id, title=s.title, held=s.held, required=s.required)
            for s in shown.stacks
        ],
        clr_url="/learners/me/clr",
        preferences=_view(shown.preferences),
    )


@router.get(
    "/learners/me/clr",
    response_class=Response,
    responses={200: {"content": {"application/ld+json": {"schema": {"type": "object"}}}}},
    summary="Your Comprehensive Learner Record, signed by the issuer (signed-in learner)",
)
async def my_clr(request: Request, _: Principal = LEARNER) -> Response:
    """The issuer's `GET /learners/me/clr`, fetched here with the learner's own token: the
    learner page downloads it from its own origin (the issuer takes no cross-origin calls
    with a bearer token)."""
    issuer_url = request.app.state.settings.issuer_url
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.get(
                f"{issuer_url}/learners/me/clr",
                headers={"Authorization": request.headers["authorization"]},
            )
    except httpx.HTTPError as error:
        raise Problem(
            503,
            "issuer-unavailable",
            "The issuer did not answer; try again shortly.",
            headers={"Retry-After": "5"},
        ) from error
    if answer.status_code != 200:
        raise Problem(
            502 if answer.status_code >= 500 else answer.status_code,
            "issuer-refused",
            f"The issuer answered {answer.status_code} for your record.",
        )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/ld+json"),
        headers={"Content-Disposition": 'attachment; filename="clr.json"'},
    )


@router.get(
    "/learner",
    response_class=HTMLResponse,
    responses=HTML_PAGE,
    summary="The learner page (HTML; English or French by Accept-Language or ?lang=)",
)
@access.public
async def learner_page(request: Request, lang: str | None = None) -> HTMLResponse:
    wanted = [lang] + [
        part.split(";")[0].strip() for part in request.headers.get("accept-language", "").split(",")
    ]
    language = choose_language(shipped_languages(), *wanted)
    page = pages().get_template("learner.html")
    return HTMLResponse(
        page.render(
            language=language,
            text=learner_texts(language),
            notifier="",
            issuer=request.app.state.settings.issuer_url,
        ),
        headers={"Content-Language": language, "Vary": "Accept-Language"},
    )


#: The page's script, a file of its own: the content security policy runs no inline script.
LEARNER_SCRIPT = Path(__file__).resolve().parent.parent / "static" / "learner.js"


@router.get("/learner.js", include_in_schema=False)
@access.public
async def learner_script() -> FileResponse:
    return FileResponse(
        LEARNER_SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )
