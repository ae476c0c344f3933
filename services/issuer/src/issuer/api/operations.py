"""Operations: the dev stack's mailbox, and what the reconciler asks the issuer."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from credstack.auth import Principal, require
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.refusals import NotFound
from credstack.service import Engine
from issuer import mail
from issuer.usecases import readmodels

router = APIRouter()


class NoMailbox(NotFound):
    code = "no-mailbox"


class MailboxMessage(BaseModel):
    message_id: str
    sender: str = Field(alias="from", serialization_alias="from")
    to: str
    subject: str
    date: str
    text: str


@router.get(
    "/admin/mailbox",
    tags=["operations"],
    summary="Messages the dev stack's SMTP sink received, newest first (staff; dev stack only)",
)
async def mailbox(
    request: Request,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("issuer:manage"),
) -> Page[MailboxMessage]:
    folder = request.app.state.mailbox
    if folder is None:
        raise NoMailbox("Email goes to a real SMTP server (ISSUER_SMTP_HOST).")
    before = None if cursor is None else decode_cursor(cursor, int, str)
    found = mail.read_mailbox(folder, before=before, limit=limit + 1)
    page = page_of(found, limit, lambda m: m.key)
    return Page(
        items=[MailboxMessage.model_validate(m.as_json()) for m in page.items],
        next_cursor=page.next_cursor,
    )


class KnownEnrolment(BaseModel):
    enrolment_id: UUID
    known: bool = Field(description="Whether the issuer has learnt of its confirmation")


@router.get(
    "/admin/enrolments/{enrolment_id}",
    tags=["operations"],
    response_model=KnownEnrolment,
    summary="Whether the issuer knows a confirmed enrolment (for the reconciler)",
)
async def known_enrolment(
    enrolment_id: UUID, engine: Engine, _: Principal = require("platform:operate")
) -> KnownEnrolment:
    async with engine.connect() as conn:
        known = await readmodels.knows_enrolment(conn, enrolment_id)
    return KnownEnrolment(enrolment_id=enrolment_id, known=known)
