"""What the public and staff read: stored credentials, achievements and status lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.refusals import NotFound
from issuer import inputs, repository
from issuer.domain import Credential, CredentialNotFound
from issuer.standards.bitstring_status_list import Purpose


class NoStatusList(NotFound):
    pass


class NoAchievement(NotFound):
    def __init__(self) -> None:
        super().__init__("No credential has been issued for this achievement yet.")


async def credential(conn: AsyncConnection, credential_id: UUID) -> Credential:
    found = await repository.credential_by_id(conn, credential_id)
    if found is None:
        raise CredentialNotFound(credential_id)
    return found


async def document(conn: AsyncConnection, credential_id: UUID) -> dict[str, Any] | None:
    found = await repository.credential_by_id(conn, credential_id)
    return None if found is None else found.document


async def credentials_of_enrolment(
    conn: AsyncConnection, enrolment_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[Credential]:
    return await repository.credentials_of_enrolment(conn, enrolment_id, after=after, limit=limit)


async def status_list(conn: AsyncConnection, number: int, purpose: str) -> dict[str, Any]:
    if purpose not in tuple(Purpose):
        raise NoStatusList(f"Status lists are {' or '.join(Purpose)}.")
    found = await repository.status_list_document(conn, number, purpose)
    if found is None:
        raise NoStatusList(f"No status list {number}.")
    return found


async def achievement(conn: AsyncConnection, achievement_id: str) -> dict[str, Any]:
    found = await repository.achievement_document(conn, achievement_id)
    if found is None:
        raise NoAchievement()
    return found


async def knows_enrolment(conn: AsyncConnection, enrolment_id: UUID) -> bool:
    """Whether the issuer has learnt of this confirmed enrolment (its recipient)."""
    return await inputs.recipient_of(conn, enrolment_id) is not None


async def knows_achievement(conn: AsyncConnection, micro_credential_id: UUID, version: int) -> bool:
    """Whether the catalogue's MicroCredentialPublished of this version arrived here."""
    return await inputs.achievement_snapshot(conn, micro_credential_id, version) is not None


async def knows_stack(conn: AsyncConnection, stack_id: UUID, version: int) -> bool:
    """Whether the catalogue's StackPublished of this version arrived here."""
    return await inputs.knows_stack(conn, stack_id, version)
