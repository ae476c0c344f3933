"""Read models of the other services' facts, kept from their events.

Offerings and micro-credential versions (catalogue), credentials learners hold (issuer),
language placements (assessment). The catalogue's changes to an offering's enrolments
are in `offerings`. Consumers call these inside the inbox transaction;
`received.time` (when the fact was published) stands for now.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.assessment import PlacementAssessed
from credstack.contracts.catalogue import MicroCredentialPublished, OfferingScheduled
from credstack.contracts.envelope import Received
from credstack.contracts.issuer import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
)
from enrolment.domain import OfferingStatus, Standing
from enrolment.tables import held_credential, micro_credential, offering, placement
from enrolment.usecases import enrolments
from enrolment.usecases.transitions import Policy


async def micro_credential_published(
    conn: AsyncConnection, event: MicroCredentialPublished, received: Received
) -> None:
    await conn.execute(
        insert(micro_credential)
        .values(
            id=event.micro_credential_id,
            version=event.version,
            code=event.code,
            title=event.title,
            language=event.language,
            is_language_micro_credential=event.is_language_micro_credential,
            language_level=event.language_level,
            prerequisites=event.prerequisites,
        )
        .on_conflict_do_nothing()
    )


async def offering_scheduled(
    conn: AsyncConnection, event: OfferingScheduled, received: Received
) -> None:
    values = {
        "micro_credential_id": event.micro_credential_id,
        "micro_credential_version": event.micro_credential_version,
        "code": event.code,
        "title": event.title,
        "starts_on": event.starts_on,
        "ends_on": event.ends_on,
        "enrolment_opens_at": event.enrolment_opens_at,
        "enrolment_closes_at": event.enrolment_closes_at,
        "capacity": event.capacity,
        "fee_cents": event.fee_cents,
        "currency": event.currency,
        "delivery_mode": event.delivery_mode,
        "language": event.language,
        "is_language_micro_credential": event.is_language_micro_credential,
        "language_level": event.language_level,
        "prerequisites": event.prerequisites,
    }
    statement = insert(offering).values(
        id=event.offering_id, status=OfferingStatus.SCHEDULED.value, **values
    )
    await conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))


async def credential_held(
    conn: AsyncConnection,
    event: CredentialIssued | StackCredentialIssued,
    received: Received,
    *,
    policy: Policy,
) -> None:
    """A credential now held may lift the need for staff approval of an enrolment."""
    held = event.stack_id if isinstance(event, StackCredentialIssued) else event.micro_credential_id
    await conn.execute(
        insert(held_credential)
        .values(
            credential_id=event.credential_id,
            learner_id=event.learner_id,
            micro_credential_id=held,
            status=Standing.ACTIVE.value,
            issued_at=event.issued_at,
        )
        .on_conflict_do_nothing()
    )
    await enrolments.reconsider_awaiting_approval(
        conn, event.learner_id, policy=policy, now=received.time
    )


_STANDING_AFTER = {
    CredentialRevoked: Standing.REVOKED,
    CredentialSuspended: Standing.SUSPENDED,
    CredentialReinstated: Standing.ACTIVE,
}


async def credential_status_changed(
    conn: AsyncConnection,
    event: CredentialRevoked | CredentialSuspended | CredentialReinstated,
    received: Received,
) -> None:
    """A revoked or suspended credential no longer satisfies a prerequisite."""
    standing = _STANDING_AFTER[type(event)]
    await conn.execute(
        update(held_credential)
        .where(
            held_credential.c.credential_id == event.credential_id,
            held_credential.c.status != Standing.REVOKED.value,
        )
        .values(status=standing.value)
    )


async def placement_assessed(
    conn: AsyncConnection, event: PlacementAssessed, received: Received
) -> None:
    """The latest placement per language counts."""
    statement = insert(placement).values(
        learner_id=event.learner_id,
        language=event.language.casefold(),
        level=event.level,
        assessed_at=event.assessed_at,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["learner_id", "language"],
            set_={"level": event.level, "assessed_at": event.assessed_at},
            where=placement.c.assessed_at < statement.excluded.assessed_at,
        )
    )
