"""What the routes share: LMS client authentication and grade receipts."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assessment import repository
from assessment.domain import Outcome
from assessment.registry import ClientKind, LmsClient, secret_matches
from assessment.usecases.intake import Receipt, ReceiptStatus
from credstack import access
from credstack.auth import Principal, require
from credstack.pagination import MalformedCursor, decode_cursor
from credstack.problems import Problem
from credstack.service import Engine

CLIENT_CLAIMS = ("client_id", "azp")

ClientId = Annotated[
    str,
    Path(
        min_length=2,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The client id (for bearer tokens: the token's client_id claim)",
    ),
]


def client_id_of(principal: Principal) -> str | None:
    """The LMS client a bearer token names (RFC 9068 `client_id`, or `azp`)."""
    return next((str(principal.claims[c]) for c in CLIENT_CLAIMS if principal.claims.get(c)), None)


def _unregistered(detail: str) -> Problem:
    return Problem(403, "unregistered-client", detail)


def _active(client: LmsClient | None, *, kinds: set[ClientKind], client_id: str) -> LmsClient:
    if client is None or not client.active:
        raise _unregistered(f"{client_id} is not an active, registered LMS integration.")
    if client.kind not in kinds:
        raise _unregistered(
            f"LMS client {client.id} is registered as {client.kind}, which does not post here."
        )
    return client


def _bearer_client(*kinds: ClientKind) -> Callable[..., Awaitable[LmsClient]]:
    """The registered, active LMS client a bearer token (`grades:write`) names, when it is
    of one of `kinds`: each intake route takes only the kinds registered to post there."""
    assert all(k.uses_bearer_tokens for k in kinds)
    named = " or ".join(f"`{k}`" for k in kinds)

    @access.scheme(f"LMS client of kind {named}: bearer `grades:write` naming it")
    async def dependency(
        engine: Engine, principal: Principal = require("grades:write")
    ) -> LmsClient:
        client_id = client_id_of(principal)
        if client_id is None:
            raise _unregistered("The token names no LMS client (claim client_id).")
        async with engine.connect() as conn:
            client = await repository.client(conn, str(client_id))
        return _active(client, kinds=set(kinds), client_id=str(client_id))

    return dependency


#: `POST /grades`: the native form, which LTI platforms may also send.
NativeClient = Annotated[LmsClient, Depends(_bearer_client(ClientKind.NATIVE, ClientKind.LTI))]
#: The LTI AGS routes: only a client registered as an LTI platform.
LtiClient = Annotated[LmsClient, Depends(_bearer_client(ClientKind.LTI))]


def _challenge(scheme: str, realm: str, detail: str) -> Problem:
    return Problem(
        401, "unauthorized", detail, headers={"WWW-Authenticate": f'{scheme} realm="{realm}"'}
    )


@access.scheme("LMS client of kind `caliper`: its API key as bearer")
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


@access.scheme("LMS client of kind `xapi`: HTTP Basic id and secret")
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
        client = await repository.client(conn, client_id)
        secret_hash = await repository.client_secret_hash(conn, client_id)
    if client is None or not secret_matches(secret, secret_hash):
        raise _challenge("Basic", "credstack-xapi", "Unknown client id or wrong secret.")
    return _active(client, kinds={ClientKind.XAPI}, client_id=client_id)


XapiClient = Annotated[LmsClient, Depends(_xapi_client)]


class GradeReceipt(BaseModel):
    """What became of one grade sent."""

    grade_id: int
    status: ReceiptStatus
    enrolment_id: UUID | None
    outcome: Outcome | None = Field(description="The outcome that now stands, if decided")
    held: bool = Field(description="A pass is held back (an integrity case is open)")
    note: str | None

    @classmethod
    def of(cls, receipt: Receipt) -> GradeReceipt:
        result = receipt.result
        return cls(
            grade_id=receipt.grade_id,
            status=receipt.status,
            enrolment_id=receipt.enrolment_id,
            outcome=result.outcome if result else None,
            held=bool(result and result.held),
            note=receipt.note,
        )


class Receipts(BaseModel):
    grades: list[GradeReceipt]


def intake_status(receipts: list[Receipt]) -> int:
    """200 when every grade reached a confirmed enrolment; 202 when one is kept until its
    enrolment is confirmed or quarantined for staff."""
    return 200 if all(r.confirmed for r in receipts) else 202


def receipts_response(answer: Receipts, receipts: list[Receipt]) -> JSONResponse:
    return JSONResponse(answer.model_dump(mode="json"), status_code=intake_status(receipts))


def kept(model: Any) -> dict[int | str, dict[str, Any]]:
    """The 202 answer of an intake route: `model`, when a grade is kept or quarantined."""
    return {
        202: {
            "model": model,
            "description": "Kept until the enrolment is confirmed, or quarantined",
        }
    }


def cursor_key(cursor: str | None, *kinds: type) -> tuple[Any, ...] | None:
    """The sort key a `next_cursor` carries, as `kinds` (int, str, UUID or datetime)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor, *(int if kind is int else str for kind in kinds))
    try:
        return tuple(
            kind.fromisoformat(value) if kind is datetime else kind(value)
            for kind, value in zip(kinds, values, strict=True)
        )
    except ValueError as error:
        raise MalformedCursor("The cursor is not one this API gave out.") from error
