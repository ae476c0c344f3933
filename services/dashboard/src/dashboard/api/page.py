"""The dashboard page: plain HTML, CSS and JavaScript served by the service (no build)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel

from credstack import access, devauth
from credstack.auth import ROLE_SCOPES
from credstack.refusals import NotFound
from dashboard.api.deps import SettingsDep

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
MEDIA_TYPES = {"app.js": "text/javascript", "app.css": "text/css"}


@router.get("/", response_class=HTMLResponse)
@access.public
async def index() -> FileResponse:
    return FileResponse(
        STATIC / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"}
    )


@router.get("/static/{name}")
@access.public
async def asset(name: Literal["app.js", "app.css"]) -> FileResponse:
    return FileResponse(
        STATIC / name, media_type=MEDIA_TYPES[name], headers={"Cache-Control": "no-cache"}
    )


class DevSignIn(BaseModel):
    token: str


@router.post("/dev/sign-in", response_model=DevSignIn)
@access.scheme("public, dev stack only (404 otherwise)")
async def dev_sign_in(settings: SettingsDep) -> DevSignIn:
    """Dev stack only: a token from the local issuer with the staff and approver scopes."""
    if not settings.dev_stack:
        raise NotFound("Sign in with the university's identity provider.")
    key = devauth.signing_key(settings.data_dir)
    scopes = sorted({*ROLE_SCOPES["staff"], *ROLE_SCOPES["approver"]})
    token = devauth.mint(
        key,
        role="staff",
        subject="dev-staff",
        name="Dev staff member",
        scope=" ".join(scopes),
        roles=["staff", "approver"],
    )
    return DevSignIn(token=token)
