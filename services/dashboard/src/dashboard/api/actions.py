"""Actions from the console, done by the owning service's API with the caller's token.

The dashboard never writes another service's data: it forwards the signed-in staff
member's bearer token, so the owning service applies its own rules and scopes, and its
refusal comes back to the page as it was given.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import httpx
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from credstack.refusals import Reason, Refusal
from dashboard.api.deps import SettingsDep, Token

router = APIRouter(prefix="/console/actions", tags=["actions"])

ServiceName = Literal["catalogue", "enrolment", "assessment", "issuer"]


class ServiceRefused(Refusal):
    """The owning service said no; its problem detail travels in `upstream`."""

    code = "refused-by-service"
    reason = Reason.CONFLICT


class ServiceUnavailable(Refusal):
    code = "service-unavailable"
    reason = Reason.UNAVAILABLE


class Done(BaseModel):
    service: str
    action: str
    result: Any


async def _post(
    settings: SettingsDep, service: str, path: str, token: str, body: Any = None
) -> Any:
    url = settings.service_urls()[service] + path
    try:
        async with httpx.AsyncClient(timeout=settings.service_timeout_seconds) as client:
            response = await client.post(
                url, json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as error:
        raise ServiceUnavailable(f"The {service} service could not be reached: {error}.") from error
    if response.status_code >= 400:
        try:
            upstream = response.json()
        except ValueError:
            upstream = {"detail": response.text[:500]}
        detail = upstream.get("detail") if isinstance(upstream, dict) else None
        raise ServiceRefused(
            f"{service} refused: {detail or response.reason_phrase}",
            service=service,
            upstream_status=response.status_code,
            upstream=upstream,
        )
    return response.json() if response.content else None


class Reason_(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=2000)


class Assignment(Note):
    enrolment_id: UUID


Code = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]


@router.post("/micro-credentials/{code}/approve-and-publish", response_model=Done)
async def approve_and_publish(code: Code, settings: SettingsDep, token: Token) -> Done:
    """Approve a submitted micro-credential, then publish it (needs an approver's token)."""
    await _post(settings, "catalogue", f"/micro-credentials/{code}/approve", token)
    result = await _post(settings, "catalogue", f"/micro-credentials/{code}/publish", token)
    return Done(service="catalogue", action="approve-and-publish", result=result)


@router.post("/quarantined-grades/{grade_id}/assign", response_model=Done)
async def assign_grade(
    grade_id: int, body: Assignment, settings: SettingsDep, token: Token
) -> Done:
    result = await _post(
        settings,
        "assessment",
        f"/quarantined-grades/{grade_id}/assign",
        token,
        body.model_dump(mode="json"),
    )
    return Done(service="assessment", action="assign", result=result)


@router.post("/quarantined-grades/{grade_id}/dismiss", response_model=Done)
async def dismiss_grade(grade_id: int, body: Note, settings: SettingsDep, token: Token) -> Done:
    result = await _post(
        settings, "assessment", f"/quarantined-grades/{grade_id}/dismiss", token, body.model_dump()
    )
    return Done(service="assessment", action="dismiss", result=result)


@router.post("/parked-events/{service}/{parked_id}/replay", response_model=Done)
async def replay(
    service: ServiceName,
    parked_id: Annotated[int, Path(ge=1, lt=2**63)],
    settings: SettingsDep,
    token: Token,
) -> Done:
    result = await _post(settings, service, f"/admin/parked-events/{parked_id}/replay", token)
    return Done(service=service, action="replay", result=result)


@router.post("/credentials/{credential_id}/{action}", response_model=Done)
async def change_credential(
    credential_id: UUID,
    action: Literal["revoke", "suspend"],
    body: Reason_,
    settings: SettingsDep,
    token: Token,
) -> Done:
    result = await _post(
        settings, "issuer", f"/credentials/{credential_id}/{action}", token, body.model_dump()
    )
    return Done(service="issuer", action=action, result=result)


@router.post("/enrolments/{enrolment_id}/withdraw", response_model=Done)
async def withdraw(enrolment_id: UUID, body: Reason_, settings: SettingsDep, token: Token) -> Done:
    result = await _post(
        settings, "enrolment", f"/enrolments/{enrolment_id}/withdraw", token, body.model_dump()
    )
    return Done(service="enrolment", action="withdraw", result=result)


@router.post("/enrolments/{enrolment_id}/refund", response_model=Done)
async def refund(enrolment_id: UUID, settings: SettingsDep, token: Token) -> Done:
    result = await _post(settings, "enrolment", f"/enrolments/{enrolment_id}/refund", token)
    return Done(service="enrolment", action="refund", result=result)
