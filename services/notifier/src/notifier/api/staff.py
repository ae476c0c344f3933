"""Staff: messages sent, pending and failed (with why), resend, the dev mailbox, erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.refusals import NotFound
from credstack.service import Engine
from notifier import mail, tables
from notifier.domain import Status, UnknownMessage
from notifier.repository import email_outbox
from notifier.usecases import learners, staff

router = APIRouter(tags=["staff"])
STAFF = require("notifier:manage")


class MessageView(BaseModel):
    id: UUID = Field(description="Also the email's Message-ID (<id@host>)")
    kind: str
    learner_id: UUID | None
    to: str | None = Field(description="The address it went to (set once sent)")
    language: str | None
    subject: str | None
    status: Status
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None = Field(description="Why the last attempt failed (or what it waits for)")
    resend_of: UUID | None


def _view(record: email_outbox.MessageRecord) -> MessageView:
    return MessageView(
        id=record.id,
        kind=record.kind,
        learner_id=record.learner_id,
        to=record.to_address,
        language=record.language,
        subject=record.subject,
        status=record.status,
        created_at=record.created_at,
        sent_at=record.sent_at,
        attempts=record.attempts,
        last_error=record.last_error,
        resend_of=record.resend_of,
    )


@router.get("/admin/messages", summary="Messages, newest first (staff)")
async def list_messages(
    engine: Engine,
    status: Status | None = None,
    learner_id: UUID | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = STAFF,
) -> Page[MessageView]:
    before = None if cursor is None else decode_cursor(cursor, int)[0]
    async with engine.connect() as conn:
        found = await email_outbox.messages(
            conn, status=status, learner_id=learner_id, before=before, limit=limit + 1
        )
    page = page_of(found, limit, lambda m: (m.seq,))
    return Page(items=[_view(m) for m in page.items], next_cursor=page.next_cursor)


@router.get("/admin/messages/{message_id}", summary="One message (staff)")
async def get_message(message_id: UUID, engine: Engine, _: Principal = STAFF) -> MessageView:
    async with engine.connect() as conn:
        found = await email_outbox.message_of(conn, message_id)
    if found is None:
        raise UnknownMessage(f"No message has the id {message_id}.")
    return _view(found)


@router.post(
    "/admin/messages/{message_id}/resend",
    status_code=202,
    summary="Send a message again, as a new message (staff)",
)
async def resend(message_id: UUID, engine: Engine, by: Principal = STAFF) -> MessageView:
    async with engine.begin() as conn:
        new_id = await staff.resend(conn, message_id, now())
        await tables.audit.record_action(
            conn, by, StaffAction.MESSAGE_RESEND, "message", message_id, new_message_id=str(new_id)
        )
        found = await email_outbox.message_of(conn, new_id)
    assert found is not None
    return _view(found)


class Erased(BaseModel):
    learner_id: UUID
    erased: bool = True


@router.delete(
    "/admin/learners/{learner_id}/contact",
    summary="Erase a learner's contact data, choices and unsent messages here (staff)",
)
async def erase_learner(learner_id: UUID, engine: Engine, by: Principal = STAFF) -> Erased:
    async with engine.begin() as conn:
        await learners.erase(conn, learner_id)
        await tables.audit.record_action(conn, by, StaffAction.CONTACT_ERASE, "learner", learner_id)
    return Erased(learner_id=learner_id)


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
    summary="Messages the dev stack's SMTP sink received, newest first (staff; dev stack only)",
)
async def mailbox(
    request: Request, limit: Limit = 100, cursor: Cursor = None, _: Principal = STAFF
) -> Page[MailboxMessage]:
    folder = request.app.state.mailbox
    if folder is None:
        raise NoMailbox("Email goes to a real SMTP server (NOTIFIER_SMTP_HOST).")
    before: Any = None if cursor is None else decode_cursor(cursor, int, str)
    found = mail.read_mailbox(folder, before=before, limit=limit + 1)
    page = page_of(found, limit, lambda m: m.key)
    return Page(
        items=[MailboxMessage.model_validate(m.as_json()) for m in page.items],
        next_cursor=page.next_cursor,
    )
