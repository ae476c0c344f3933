"""What the routes share: LMS client authentication, error mapping, receipts, pages."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from assessment import repository
from assessment.registry import ClientKind, LmsClient, secret_matches
from assessment.usecases.intake import Receipt
from credstack.auth import Principal, require
from credstack.problems import Problem
from credstack.service import Engine

CLIENT_CLAIMS = ("client_id", "azp")


def client_id_of(principal: Principal) -> str | None:
    """The LMS client a bearer token names (RFC 9068 `client_id`, or `azp`)."""
    return next((str(principal.claims[c]) for c in CLIENT_CLAIMS if principal.claims.get(c)), None)


def _unregistered(detail: str) -> Problem:
    return Problem(403, "unregistered-client", detail)


def _active(row: Any, *, kinds: set[ClientKind], client_id: str) -> LmsClient:
    if row is None or not row.active:
        raise _unregistered(f"{client_id} is not an active, registered LMS integration.")
    client = repository.client_of(row)
    if client.kind not in kinds:
        raise _unregistered(
            f"LMS client {client.id} is registered as {client.kind}, which does not post here."
        )
    return client


async def _bearer_client(
    engine: Engine, principal: Principal = require("grades:write")
) -> LmsClient:
    client_id = client_id_of(principal)
    if client_id is None:
        raise _unregistered("The token names no LMS client (claim client_id).")
    async with engine.connect() as conn:
        row = await repository.client_row(conn, str(client_id))
    return _active(
        row, kinds={k for k in ClientKind if k.uses_bearer_tokens}, client_id=str(client_id)
    )


BearerClient = Annotated[LmsClient, Depends(_bearer_client)]


def _challenge(scheme: str, realm: str, detail: str) -> Problem:
    return Problem(
        401, "unauthorized", detail, headers={"WWW-Authenticate": f'{scheme} realm="{realm}"'}
    )


async def _caliper_sensor(request: Request, engine: Engine) -> LmsClient:
    """A Caliper sensor presents its API key as a bearer token."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise _challenge(
            "Bearer", "caliper", "A Caliper sensor sends its API key as a bearer token."
        )
    async with engine.connect() as conn:
        client = await repository.client_by_secret(conn, key.strip())
    if client is None or client.kind is not ClientKind.CALIPER:
        raise _challenge("Bearer", "caliper", "The API key is not a registered Caliper sensor's.")
    if not client.active:
        raise _unregistered(f"Caliper sensor {client.id} is deactivated.")
    return client


CaliperSensor = Annotated[LmsClient, Depends(_caliper_sensor)]


async def _xapi_client(request: Request, engine: Engine) -> LmsClient:
    """An xAPI client authenticates with HTTP Basic: its client id and secret."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        client_id, _, secret = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        client_id = secret = ""
    if scheme.lower() != "basic" or not client_id:
        raise _challenge("Basic", "credstack-xapi", "Send HTTP Basic credentials.")
    async with engine.connect() as conn:
        row = await repository.client_row(conn, client_id)
    if row is None or not secret_matches(secret, row.secret_hash):
        raise _challenge("Basic", "credstack-xapi", "Unknown client id or wrong secret.")
    return _active(row, kinds={ClientKind.XAPI}, client_id=client_id)


XapiClient = Annotated[LmsClient, Depends(_xapi_client)]


def receipt_view(receipt: Receipt) -> dict[str, Any]:
    result = receipt.result
    return {
        "grade_id": receipt.grade_id,
        "status": receipt.status,
        "enrolment_id": str(receipt.enrolment_id) if receipt.enrolment_id else None,
        "outcome": result.outcome.value if result and result.outcome else None,
        "held": bool(result and result.held),
        "note": receipt.note,
    }


def intake_status(receipts: list[Receipt]) -> int:
    """200 when every grade reached a confirmed enrolment; 202 when one is kept until its
    enrolment is confirmed or quarantined for staff."""
    return 200 if all(r.confirmed for r in receipts) else 202


def receipts_response(receipts: list[Receipt], **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"grades": [receipt_view(r) for r in receipts], **extra},
        status_code=intake_status(receipts),
    )


Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items")]
After = Annotated[int | None, Query(description="Continue after this id (from `next_after`)")]


def page(items: list[dict[str, Any]], limit: int, key: str = "id") -> dict[str, Any]:
    """One page of a list; `next_after` is the cursor for the next page, if any."""
    return {"items": items, "next_after": items[-1][key] if len(items) == limit else None}
