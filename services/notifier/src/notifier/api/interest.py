"""Interest registration (public): register, confirm by the emailed link, unsubscribe in
one click (RFC 8058: mail clients POST the List-Unsubscribe URL)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, EmailStr, Field

from credstack import access
from credstack.clock import now
from credstack.service import Engine
from notifier.api.common import HTML_PAGE, pages
from notifier.usecases import interest

router = APIRouter(tags=["interest"])

Token = Annotated[str, Query(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class InterestRequest(BaseModel):
    email: EmailStr = Field(max_length=254)
    language: str | None = Field(
        default=None, max_length=35, description="Language of the messages (en or fr)"
    )


class InterestRegistered(BaseModel):
    id: UUID
    status: str = Field(description="confirmation_sent: we emailed a link to confirm")


@router.post(
    "/micro-credentials/{code}/interest",
    status_code=202,
    response_model=InterestRegistered,
    summary="Register interest: be told when an offering opens (after confirming by email)",
)
@access.public
async def register_interest(
    code: Annotated[str, Field(max_length=64)], body: InterestRequest, engine: Engine
) -> InterestRegistered:
    async with engine.begin() as conn:
        registration = await interest.register(
            conn, code, email=body.email, language=body.language, at=now()
        )
    return InterestRegistered(id=registration, status="confirmation_sent")


def _notice(heading: str, text: str, *, form_action: str | None = None) -> HTMLResponse:
    page = pages().get_template("notice.html")
    return HTMLResponse(
        page.render(
            language="en", heading=heading, text=text, form_action=form_action, button="Unsubscribe"
        )
    )


@router.get(
    "/interest/confirm",
    response_class=HTMLResponse,
    responses=HTML_PAGE,
    summary="Confirm an interest registration (the link in the confirmation email)",
)
@access.scheme("the e-mailed link's token")
async def confirm_interest(token: Token, engine: Engine) -> HTMLResponse:
    async with engine.begin() as conn:
        title = await interest.confirm(conn, token, now())
    return _notice("Confirmed", f"We will tell you when enrolment opens for {title}.")


@router.get(
    "/unsubscribe",
    response_class=HTMLResponse,
    responses=HTML_PAGE,
    summary="The unsubscribe page: one button (a GET never unsubscribes: link scanners)",
)
@access.scheme("the e-mailed link's token")
async def unsubscribe_page(token: Token, engine: Engine) -> HTMLResponse:
    async with engine.connect() as conn:
        title = await interest.title_of(conn, token)
    return _notice(
        "Unsubscribe",
        f"Stop messages about {title}?",
        form_action=f"/unsubscribe?token={token}",
    )


@router.post(
    "/unsubscribe",
    response_class=HTMLResponse,
    responses=HTML_PAGE,
    summary="Unsubscribe in one click (RFC 8058 List-Unsubscribe-Post)",
)
@access.scheme("the e-mailed link's token")
async def unsubscribe(token: Token, engine: Engine) -> HTMLResponse:
    async with engine.begin() as conn:
        title = await interest.unsubscribe(conn, token, now())
    return _notice("Unsubscribed", f"You will receive no more messages about {title}.")
