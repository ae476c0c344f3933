"""What the dashboard's routes share: settings, the follower, who the caller is."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from credstack import access
from credstack.auth import Authenticator, Principal
from credstack.clock import now
from credstack.refusals import Reason, Refusal
from dashboard import tickets
from dashboard.settings import Settings
from dashboard.stream import LogFollower

STREAM_SCOPE = "platform:operate"


class NotSignedIn(Refusal):
    code = "unauthorized"
    reason = Reason.UNAUTHENTICATED
    headers = {"WWW-Authenticate": 'Bearer realm="credstack"'}


class NotStaff(Refusal):
    code = "insufficient-scope"
    reason = Reason.FORBIDDEN


async def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def follower_of(request: Request) -> LogFollower:
    follower: LogFollower = request.app.state.follower
    return follower


SettingsDep = Annotated[Settings, Depends(settings_of)]
FollowerDep = Annotated[LogFollower, Depends(follower_of)]

_bearer = HTTPBearer(auto_error=False)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@access.scheme(access.scopes_rule([STREAM_SCOPE]))
async def staff(request: Request, credentials: BearerDep) -> Principal:
    """The signed-in staff member (a bearer token with `platform:operate`)."""
    if credentials is None:
        raise NotSignedIn("Sign in: this needs a staff bearer token.")
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.principal(credentials.credentials)
    if STREAM_SCOPE not in principal.scopes:
        raise NotStaff(f"This needs a staff token (scope {STREAM_SCOPE}).")
    return principal


Staff = Annotated[Principal, Depends(staff)]


async def bearer_token(credentials: BearerDep, _: Staff) -> str:
    """The caller's own token, to act in the owning service on their behalf."""
    assert credentials is not None  # staff() refused a missing token already
    return credentials.credentials


Token = Annotated[str, Depends(bearer_token)]


@access.scheme(f"stream ticket, or {access.scopes_rule([STREAM_SCOPE])}")
async def subscriber(
    request: Request,
    settings: SettingsDep,
    credentials: BearerDep,
    ticket: Annotated[
        str | None, Query(max_length=2048, description="A stream ticket (browsers)")
    ] = None,
) -> str:
    """Who reads the stream: a browser with a ticket, or an internal system with a token."""
    if ticket is not None:
        held = tickets.verify(settings.ticket_secret(), ticket, now=now())
        if STREAM_SCOPE not in held.scopes:
            raise NotStaff(f"The ticket's holder lacks the scope {STREAM_SCOPE}.")
        return held.subject
    return (await staff(request, credentials)).subject


Subscriber = Annotated[str, Depends(subscriber)]
