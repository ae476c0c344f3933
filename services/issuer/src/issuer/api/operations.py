"""Operations: the dev stack's mailbox."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from credstack.auth import Principal, require
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.refusals import NotFound
from issuer import mail

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
