"""Read models of the other services' facts, kept from their events.

Offerings and micro-credential versions (catalogue), credentials learners hold (issuer),
language placements (assessment). Consumers call these inside the inbox transaction;
`received.time` (when the fact was published) stands for now.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.assessment import PlacementAssessed
from credstack.contracts.catalogue import (
    MicroCredentialPublished,
    OfferingCancelled,
    OfferingRescheduled,
    OfferingScheduled,
)
from credstack.contracts.envelope import Received
from credstack.contracts.issuer import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
)
from enrolment import usecases
from enrolment.tables import held_credential, micro_credential, offering, placement
from enrolment.usecases import Policy


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
    statement = insert(offering).values(id=event.offering_id, status="scheduled", **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))


class EnrolmentEffects:
    """Facts that change enrolments as well as a read model: they need the policy
    (a rescheduled capacity frees seats for the waitlist; a credential now held lifts
    the need for staff approval)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    async def rescheduled(
        self, conn: AsyncConnection, event: OfferingRescheduled, received: Received
    ) -> None:
        await usecases.offering_rescheduled(conn, event, policy=self.policy, now=received.time)

    async def cancelled(
        self, conn: AsyncConnection, event: OfferingCancelled, received: Received
    ) -> None:
        await usecases.offering_cancelled(conn, event, now=received.time)

    async def credential_held(
        self,
        conn: AsyncConnection,
        event: CredentialIssued | StackCredentialIssued,
        received: Received,
    ) -> None:
        held = (
            event.stack_id
            if isinstance(event, StackCredentialIssued)
            else event.micro_credential_id
        )
        await conn.execute(
            insert(held_credential)
            .values(
                credential_id=event.credential_id,
                learner_id=event.learner_id,
                micro_credential_id=held,
                status="active",
                issued_at=event.issued_at,
            )
            .on_conflict_do_nothing()
        )
        await usecases.reconsider_awaiting_approval(
            conn, event.learner_id, policy=self.policy, now=received.time
        )


async def credential_status_changed(
    conn: AsyncConnection,
    event: CredentialRevoked | CredentialSuspended | CredentialReinstated,
    received: Received,
) -> None:
    """A revoked or suspended credential no longer satisfies a prerequisite."""
    status = {
        CredentialRevoked: "revoked",
        CredentialSuspended: "suspended",
        CredentialReinstated: "active",
    }[type(event)]
    await conn.execute(
        update(held_credential)
        .where(
            held_credential.c.credential_id == event.credential_id,
            held_credential.c.status != "revoked",
        )
        .values(status=status)
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
