"""What the routes share: who the caller is, the policy and payment flows, an enrolment's
view, and where a page of enrolments starts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.auth import Principal, learner_id_for, require
from credstack.db import autocommit
from credstack.pagination import MalformedCursor, decode_cursor
from credstack.problems import Problem
from enrolment import repository
from enrolment.api.views import EnrolmentView
from enrolment.domain import Enrolment
from enrolment.repository import After
from enrolment.usecases import NotFound
from enrolment.usecases.payment_flows import PaymentFlows
from enrolment.usecases.transitions import Policy

STAFF_SCOPE = "enrolment:manage"


# `async def`, though they do not wait: FastAPI runs a plain `def` dependency in its
# thread pool, a hand-over to a thread and back on every request.
async def _flows(request: Request) -> PaymentFlows:
    flows: PaymentFlows = request.app.state.payment_flows
    return flows


async def _policy(request: Request) -> Policy:
    policy: Policy = request.app.state.policy
    return policy


Flows = Annotated[PaymentFlows, Depends(_flows)]
PolicyDep = Annotated[Policy, Depends(_policy)]
Learner = Annotated[Principal, require("learner")]
Staff = Annotated[Principal, require(STAFF_SCOPE)]


def verified_email(learner: Principal) -> str:
    email = learner.claims.get("email")
    if not email or learner.claims.get("email_verified") is not True:
        raise Problem(
            403,
            "email-not-verified",
            "Your sign-in does not carry a verified email address; verify your email with "
            "the identity provider and sign in again.",
        )
    return str(email)


async def view_of(engine: AsyncEngine, enrolment_id: UUID, caller: Principal) -> EnrolmentView:
    """The enrolment as its learner, or staff, see it; 404 for anyone else. Without a
    transaction: one statement (two for a waitlisted enrolment, each its own snapshot in
    a transaction too, at PostgreSQL's READ COMMITTED)."""
    async with autocommit(engine).connect() as conn:
        found = await repository.get(conn, enrolment_id)
        staff = STAFF_SCOPE in caller.scopes
        if found is None or not (staff or found.learner_id == learner_id_for(caller.subject)):
            raise NotFound(f"No enrolment {enrolment_id}.")
        return EnrolmentView.of(
            found, waitlist_position=await repository.waitlist_position(conn, found)
        )


def cursor_of(item: Enrolment) -> tuple[str, str]:
    """The sort key a page of enrolments continues after."""
    return item.requested_at.isoformat(), str(item.id)


def after(cursor: str | None) -> After | None:
    """Where the page a cursor asks for starts (`cursor_of` the last item before it)."""
    if cursor is None:
        return None
    created_at, enrolment_id = decode_cursor(cursor, str, str)
    try:
        return datetime.fromisoformat(created_at), UUID(enrolment_id)
    except ValueError as error:
        raise MalformedCursor("The cursor is not one this API gave out.") from error
