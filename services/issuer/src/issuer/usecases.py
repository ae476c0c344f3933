"""Issuer use cases. The inputs of a credential come from three services in no fixed
order; an award waits until its recipient and achievement are known, then is issued once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.clock import now
from credstack.contracts.assessment import AssessmentPassed
from credstack.contracts.catalogue import MicroCredentialPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.contracts.envelope import Received
from credstack.contracts.issuer import CredentialIssued
from credstack.locks import lock
from issuer import dataintegrity
from issuer.domain import Award, IssuerProfile, Recipient, new_salt, open_badge_credential
from issuer.jsonld import OfflineDocumentLoader
from issuer.keys import IssuerKeys
from issuer.tables import achievement, award, credential, outbox, recipient

MICRO_CREDENTIAL = "micro-credential"


class Issuer:
    """Signs and records credentials as this issuer (its DID, keys and public URL)."""

    def __init__(self, *, keys: IssuerKeys, profile: IssuerProfile, base_url: str) -> None:
        self.keys = keys
        self.profile = profile
        self.base_url = base_url
        self.loader = OfflineDocumentLoader()

    def sign(self, document: dict[str, Any], *, at: datetime) -> dict[str, Any]:
        return dataintegrity.sign(
            document,
            private_key=self.keys.signing_key,
            verification_method=self.keys.signing_method,
            created=at,
            loader=self.loader,
        )

    async def issue_if_ready(
        self, conn: AsyncConnection, enrolment_id: UUID, *, now: datetime
    ) -> UUID | None:
        """Issue the pending award of this enrolment once everything it needs is known."""
        await lock(conn, "issuer.issue", enrolment_id)
        pending = (
            await conn.execute(
                select(award)
                .where(award.c.enrolment_id == enrolment_id, award.c.status == "pending")
                .with_for_update()
            )
        ).first()
        if pending is None:
            return None
        who = (
            await conn.execute(select(recipient).where(recipient.c.enrolment_id == enrolment_id))
        ).first()
        what = await conn.scalar(
            select(achievement.c.snapshot).where(
                achievement.c.micro_credential_id == pending.micro_credential_id,
                achievement.c.version == pending.micro_credential_version,
            )
        )
        if who is None or what is None:
            return None
        credential_id = uuid4()
        document = open_badge_credential(
            issuer=self.profile,
            recipient=Recipient(name=who.name, email=who.email, did=who.did),
            snapshot=what,
            award=Award(
                credential_id=credential_id,
                enrolment_id=enrolment_id,
                score=pending.score,
                evidence=list(pending.evidence),
                awarded_at=pending.awarded_at,
            ),
            base_url=self.base_url,
            issued_at=now,
            salt=new_salt(),
        )
        signed = self.sign(document, at=now)
        stored = await conn.execute(
            insert(credential)
            .values(
                id=credential_id,
                enrolment_id=enrolment_id,
                learner_id=pending.learner_id,
                micro_credential_id=pending.micro_credential_id,
                micro_credential_version=pending.micro_credential_version,
                kind=MICRO_CREDENTIAL,
                document=signed,
                issued_at=now,
            )
            .on_conflict_do_nothing()
            .returning(credential.c.id)
        )
        await conn.execute(
            update(award).where(award.c.enrolment_id == enrolment_id).values(status="issued")
        )
        if stored.first() is None:
            return None
        await outbox.add(
            conn,
            CredentialIssued(
                credential_id=credential_id,
                learner_id=pending.learner_id,
                enrolment_id=enrolment_id,
                micro_credential_id=pending.micro_credential_id,
                micro_credential_version=pending.micro_credential_version,
                url=signed["id"],
                issued_at=now,
            ),
            now=now,
        )
        return credential_id

    async def assessment_passed(
        self, conn: AsyncConnection, event: AssessmentPassed, received: Received
    ) -> None:
        await conn.execute(
            insert(award)
            .values(
                enrolment_id=event.enrolment_id,
                learner_id=event.learner_id,
                micro_credential_id=event.micro_credential_id,
                micro_credential_version=event.micro_credential_version,
                score=event.score,
                evidence=event.evidence,
                awarded_at=event.decided_at,
                status="pending",
            )
            .on_conflict_do_nothing()
        )
        await self.issue_if_ready(conn, event.enrolment_id, now=now())

    async def enrolment_confirmed(
        self, conn: AsyncConnection, event: EnrolmentConfirmed, received: Received
    ) -> None:
        await conn.execute(
            insert(recipient)
            .values(
                enrolment_id=event.enrolment_id,
                learner_id=event.learner_id,
                name=event.learner_name,
                email=event.email,
                did=event.learner_did,
            )
            .on_conflict_do_nothing()
        )
        await self.issue_if_ready(conn, event.enrolment_id, now=now())

    async def micro_credential_published(
        self, conn: AsyncConnection, event: MicroCredentialPublished, received: Received
    ) -> None:
        await conn.execute(
            insert(achievement)
            .values(
                micro_credential_id=event.micro_credential_id,
                version=event.version,
                snapshot=event.model_dump(mode="json"),
            )
            .on_conflict_do_nothing()
        )
        waiting = await conn.execute(
            select(award.c.enrolment_id).where(
                award.c.micro_credential_id == event.micro_credential_id,
                award.c.micro_credential_version == event.version,
                award.c.status == "pending",
            )
        )
        for (enrolment_id,) in waiting.all():
            await self.issue_if_ready(conn, enrolment_id, now=now())
