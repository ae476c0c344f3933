"""Public documents for backpacks: the OB 2.0 issuer and hosted assertions, and the OB 3.0
achievements (with their OB 2.0 BadgeClass and badge image)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from credstack import access
from credstack.service import Engine
from issuer import faces
from issuer.api.common import BINARY, LD_JSON, IssuerDep, LdJson, documented, stored
from issuer.domain import Status
from issuer.standards import badge_baking, openbadges2
from issuer.standards.openbadges3 import achievement_url, stack_url
from issuer.usecases import readmodels

router = APIRouter()
ACHIEVEMENTS = "achievements"
ACHIEVEMENT = documented(LD_JSON, "The OB 3.0 Achievement")
BADGE_CLASS = documented(LD_JSON, "The OB 2.0 BadgeClass")
BADGE_IMAGE = documented("image/png", "The badge image", **BINARY)
MICRO_CREDENTIAL = "/achievements/{micro_credential_id}/versions/{version}"
ATTENDANCE = f"{MICRO_CREDENTIAL}/attendance"
STACK = "/stacks/{stack_id}/versions/{version}"


def _json(document: dict[str, Any], status: int = 200) -> LdJson:
    return LdJson(document, status_code=status)


PUBLIC_REVOCATION_REASON = "Withdrawn by the issuer."
PUBLIC_SUSPENSION_REASON = "Suspended by the issuer pending review."


@router.get(
    "/ob2/issuer",
    tags=["open badges 2.0"],
    summary="The OB 2.0 Issuer profile",
    response_class=LdJson,
    responses=documented(LD_JSON, "The OB 2.0 Issuer profile"),
)
@access.public
async def ob2_issuer(issuer: IssuerDep) -> LdJson:
    return _json(openbadges2.issuer_profile(issuer.profile, base_url=issuer.base_url))


@router.get(
    "/ob2/assertions/{credential_id}",
    tags=["open badges 2.0"],
    summary="The OB 2.0 hosted Assertion of a credential (410 Gone once revoked)",
    response_class=LdJson,
    responses=documented(LD_JSON, "The OB 2.0 Assertion"),
)
@access.public
async def ob2_assertion(credential_id: UUID, issuer: IssuerDep, engine: Engine) -> LdJson:
    found = await stored(engine, credential_id)
    # Neutral public reasons: the staff's note (a misconduct finding, a moderation outcome)
    # stays internal (staff routes, the audit); the public learns only what happened.
    reason = None
    if found.status is Status.REVOKED:
        reason = PUBLIC_REVOCATION_REASON
    elif found.status is Status.SUSPENDED:
        reason = PUBLIC_SUSPENSION_REASON
    document = openbadges2.assertion(
        found.document, credential_id=found.id, base_url=issuer.base_url, revocation_reason=reason
    )
    return _json(document, 410 if found.status is Status.REVOKED else 200)


async def _achievement(engine: Engine, achievement_id: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        return await readmodels.achievement(conn, achievement_id)


async def _badge_class(engine: Engine, base_url: str, achievement_id: str) -> LdJson:
    found = await _achievement(engine, achievement_id)
    return _json(openbadges2.badge_class(found, base_url=base_url))


async def _image(engine: Engine, achievement_id: str) -> Response:
    found = await _achievement(engine, achievement_id)
    return Response(badge_baking.png(faces.achievement_face(found)), media_type="image/png")


@router.get(
    MICRO_CREDENTIAL,
    tags=[ACHIEVEMENTS],
    summary="The OB 3.0 Achievement (JSON-LD)",
    response_class=LdJson,
    responses=ACHIEVEMENT,
)
@access.public
async def micro_credential_achievement(
    micro_credential_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> LdJson:
    found = achievement_url(issuer.base_url, micro_credential_id, version)
    return _json(await _achievement(engine, found))


@router.get(
    f"{MICRO_CREDENTIAL}/badge",
    tags=[ACHIEVEMENTS],
    summary="Its OB 2.0 BadgeClass",
    response_class=LdJson,
    responses=BADGE_CLASS,
)
@access.public
async def micro_credential_badge_class(
    micro_credential_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> LdJson:
    found = achievement_url(issuer.base_url, micro_credential_id, version)
    return await _badge_class(engine, issuer.base_url, found)


@router.get(
    f"{MICRO_CREDENTIAL}/image.png",
    tags=[ACHIEVEMENTS],
    summary="Its badge image",
    response_class=Response,
    responses=BADGE_IMAGE,
)
@access.public
async def micro_credential_image(
    micro_credential_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> Response:
    return await _image(engine, achievement_url(issuer.base_url, micro_credential_id, version))


@router.get(
    ATTENDANCE,
    tags=[ACHIEVEMENTS],
    summary="The OB 3.0 Achievement (JSON-LD)",
    response_class=LdJson,
    responses=ACHIEVEMENT,
)
@access.public
async def attendance_achievement(
    micro_credential_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> LdJson:
    found = achievement_url(issuer.base_url, micro_credential_id, version) + "/attendance"
    return _json(await _achievement(engine, found))


@router.get(
    f"{ATTENDANCE}/badge",
    tags=[ACHIEVEMENTS],
    summary="Its OB 2.0 BadgeClass",
    response_class=LdJson,
    responses=BADGE_CLASS,
)
@access.public
async def attendance_badge_class(
    micro_credential_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> LdJson:
    found = achievement_url(issuer.base_url, micro_credential_id, version) + "/attendance"
    return await _badge_class(engine, issuer.base_url, found)


@router.get(
    f"{ATTENDANCE}/image.png",
    tags=[ACHIEVEMENTS],
    summary="Its badge image",
    response_class=Response,
    responses=BADGE_IMAGE,
)
@access.public
async def attendance_image(
    micro_credential_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> Response:
    found = achievement_url(issuer.base_url, micro_credential_id, version) + "/attendance"
    return await _image(engine, found)


@router.get(
    STACK,
    tags=[ACHIEVEMENTS],
    summary="The OB 3.0 Achievement (JSON-LD)",
    response_class=LdJson,
    responses=ACHIEVEMENT,
)
@access.public
async def stack_achievement(
    stack_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> LdJson:
    return _json(await _achievement(engine, stack_url(issuer.base_url, stack_id, version)))


@router.get(
    f"{STACK}/badge",
    tags=[ACHIEVEMENTS],
    summary="Its OB 2.0 BadgeClass",
    response_class=LdJson,
    responses=BADGE_CLASS,
)
@access.public
async def stack_badge_class(
    stack_id: str, version: str, issuer: IssuerDep, engine: Engine
) -> LdJson:
    found = stack_url(issuer.base_url, stack_id, version)
    return await _badge_class(engine, issuer.base_url, found)


@router.get(
    f"{STACK}/image.png",
    tags=[ACHIEVEMENTS],
    summary="Its badge image",
    response_class=Response,
    responses=BADGE_IMAGE,
)
@access.public
async def stack_image(stack_id: str, version: str, issuer: IssuerDep, engine: Engine) -> Response:
    return await _image(engine, stack_url(issuer.base_url, stack_id, version))
