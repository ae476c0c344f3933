"""The local payment provider's checkout page (dev stack only; 404 with Stripe).

`GET /payments/local/checkout/{session}` shows the fee and the choices a payer has;
each choice is a form POST to `/payments/local/checkout/{session}/{action}`:
`pay` (card, succeeds), `decline` (card declined, the session stays open),
`bank-debit` (a delayed method: completes unpaid), then `settle` or `fail-settlement`.
Every action makes the provider send the matching Stripe-format webhooks.
"""

from __future__ import annotations

import html
from enum import StrEnum

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from credstack import access
from credstack.clock import now
from credstack.refusals import NotFound
from enrolment.local_provider import LocalProvider
from enrolment.stripe_format import SessionPayment, SessionStatus

router = APIRouter(tags=["local payment provider"], include_in_schema=False)


class Action(StrEnum):
    PAY = "pay"
    DECLINE = "decline"
    BANK_DEBIT = "bank-debit"
    SETTLE = "settle"
    FAIL_SETTLEMENT = "fail-settlement"


def _provider(request: Request) -> LocalProvider:
    provider = request.app.state.payment_flows.provider
    if not isinstance(provider, LocalProvider):
        raise NotFound("The local payment provider is not in use here.")
    return provider


def _money(cents: int, currency: str) -> str:
    return f"{currency.upper()} {cents // 100:,}.{cents % 100:02d}"


def _button(session_id: str, action: Action, label: str) -> str:
    return (
        f"<form method='post' action='/payments/local/checkout/{html.escape(session_id)}/"
        f"{action.value}'><button type='submit'>{html.escape(label)}</button></form>"
    )


@router.get(
    "/payments/local/checkout/{session_id}",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
@access.scheme("public, dev stack only (404 otherwise)")
async def checkout_page(session_id: str, request: Request) -> HTMLResponse:
    provider = _provider(request)
    session = await provider.session(session_id)
    if session.status is SessionStatus.OPEN and session.expires_at > now():
        choices = [
            _button(session_id, Action.PAY, "Pay by card"),
            _button(session_id, Action.DECLINE, "Pay with a card that is declined"),
            _button(session_id, Action.BANK_DEBIT, "Pay by bank debit (settles later)"),
        ]
        state = f"Open until {session.expires_at.isoformat()}"
    elif (
        session.status is SessionStatus.COMPLETE and session.payment_status is SessionPayment.UNPAID
    ):
        choices = [
            _button(session_id, Action.SETTLE, "The bank settles the payment"),
            _button(session_id, Action.FAIL_SETTLEMENT, "The bank rejects the payment"),
        ]
        state = "Bank debit submitted; waiting for the bank"
    else:
        choices = []
        state = f"{session.status.value}, payment {session.payment_status.value}"
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Checkout (local test provider)</title></head><body><main>"
        "<p><strong>Local test payment provider</strong>: no real money moves.</p>"
        f"<h1>{html.escape(session.description)}</h1>"
        f"<p>Amount due: {_money(session.amount_cents, session.currency)}</p>"
        f"<p>Payer: {html.escape(session.customer_email)}</p>"
        f"<p>Session {html.escape(session_id)}: {html.escape(state)}</p>"
        f"{''.join(choices)}</main></body></html>"
    )


class ActionTaken(BaseModel):
    """The answer to a script that asked for JSON."""

    session_id: str
    status: SessionStatus
    payment_status: SessionPayment
    next: str


@router.post(
    "/payments/local/checkout/{session_id}/{action}",
    response_model=ActionTaken,
    responses={303: {"description": "Go on to the success URL, or back to the page"}},
)
@access.scheme("public, dev stack only (404 otherwise)")
async def checkout_action(session_id: str, action: Action, request: Request) -> Response:
    """Do what the payer chose, then go on to the success URL (after paying) or back to
    the page. A script that asks for JSON gets the session's state and that URL instead."""
    provider = _provider(request)
    at = now()
    following = f"/payments/local/checkout/{session_id}"
    match action:
        case Action.PAY:
            following = await provider.pay(session_id, now=at)
        case Action.DECLINE:
            await provider.decline(session_id, now=at)
        case Action.BANK_DEBIT:
            await provider.pay_by_bank_debit(session_id, now=at)
        case Action.SETTLE | Action.FAIL_SETTLEMENT:
            await provider.settle(session_id, succeeded=action is Action.SETTLE, now=at)
    session = await provider.session(session_id)
    if "application/json" in request.headers.get("accept", ""):
        taken = ActionTaken(
            session_id=session_id,
            status=session.status,
            payment_status=session.payment_status,
            next=following,
        )
        return JSONResponse(taken.model_dump(mode="json"))
    return RedirectResponse(following, status_code=303)
