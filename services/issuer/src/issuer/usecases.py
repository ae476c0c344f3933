"""Issuer use cases: load, decide, sign, stage events and emails. The caller owns the transaction.

The inputs of a credential come from three services in no fixed order; an award waits
until its recipient and achievement are known, then is issued once. Decisions about one
enrolment run under an advisory lock on it, decisions about one learner's stack under a
lock on (learner, stack), so that two inputs landing at once can neither both miss nor
both make a decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.clock import now
from credstack.contracts.assessment import (
    AssessmentPassed,
    AttendanceOnlyCompleted,
    ResultWithdrawn,
)
from credstack.contracts.catalogue import MicroCredentialPublished, StackPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.contracts.envelope import Event, Received
from credstack.contracts.issuer import (
    CertificateOfAttendanceIssued,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
)
from credstack.locks import lock
from issuer import clr, dataintegrity, mail, repository, statuslist
from issuer.domain import (
    Attendance,
    Award,
    HeldMember,
    Issuance,
    IssuerProfile,
    Kind,
    Recipient,
    Status,
    StatusEntry,
    achievement_url,
    attendance_certificate,
    new_salt,
    next_status,
    open_badge_credential,
    stack_credential,
    stack_url,
)
from issuer.jsonld import OfflineDocumentLoader
from issuer.keys import IssuerKeys
from issuer.stacks import StackRule
from issuer.tables import achievement, award, credential, email, outbox, recipient, stack


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class Subject:
    """What a credential is about, as stored beside its document."""

    kind: str
    learner_id: UUID
    title: str
    achievement_id: str
    enrolment_id: UUID | None = None
    micro_credential_id: UUID | None = None
    micro_credential_version: int | None = None
    stack_id: UUID | None = None
    stack_version: int | None = None


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

    # -- status lists ---------------------------------------------------------------

    async def _sign_status_list(
        self, conn: AsyncConnection, number: int, purpose: str, *, now: datetime
    ) -> None:
        status = Status.REVOKED if purpose == "revocation" else Status.SUSPENDED
        document = statuslist.status_list_credential(
            issuer=self.profile,
            base_url=self.base_url,
            number=number,
            purpose=purpose,
            set_indexes=await repository.indexes_with_status(conn, number, status),
            at=now,
        )
        signed = self.sign(document, at=now)
        await repository.save_status_list_credential(conn, number, purpose, signed, now=now)

    async def _open_status_list(self, conn: AsyncConnection, number: int, *, now: datetime) -> None:
        if await repository.open_status_list(conn, number, now=now):
            for purpose in statuslist.PURPOSES:
                await self._sign_status_list(conn, number, purpose, now=now)

    async def _allocate_status(
        self, conn: AsyncConnection, credential_id: UUID, *, now: datetime
    ) -> StatusEntry:
        """A random free index in the newest list (a new list when it is crowded).

        The (list, index) primary key settles races: a draw another transaction holds is
        simply drawn again. Random indexes do not reveal the order of issue.
        """
        number = await repository.newest_status_list(conn)
        if number is None:
            number = 1
            await self._open_status_list(conn, number, now=now)
        while True:
            for _ in range(repository.INDEX_ATTEMPTS):
                index = statuslist.random_index()
                if await repository.claim_status_index(conn, number, index, credential_id):
                    return StatusEntry(statuslist.list_url(self.base_url, number), index)
            number += 1
            await self._open_status_list(conn, number, now=now)

    # -- issuing --------------------------------------------------------------------

    async def _issue(
        self,
        conn: AsyncConnection,
        subject: Subject,
        who: Recipient,
        build: Callable[[Issuance], dict[str, Any]],
        event: Callable[[UUID, str], Event],
        *,
        now: datetime,
    ) -> UUID:
        credential_id = uuid4()
        issuance = Issuance(
            credential_id=credential_id,
            issuer=self.profile,
            recipient=who,
            base_url=self.base_url,
            issued_at=now,
            salt=new_salt(),
            status=await self._allocate_status(conn, credential_id, now=now),
        )
        signed = self.sign(build(issuance), at=now)
        await conn.execute(
            insert(credential).values(
                id=credential_id,
                kind=subject.kind,
                learner_id=subject.learner_id,
                enrolment_id=subject.enrolment_id,
                micro_credential_id=subject.micro_credential_id,
                micro_credential_version=subject.micro_credential_version,
                stack_id=subject.stack_id,
                stack_version=subject.stack_version,
                achievement_id=subject.achievement_id,
                title=subject.title,
                recipient_name=who.name,
                recipient_email=who.email,
                document=signed,
                issued_at=now,
                status=Status.ACTIVE,
            )
        )
        message = mail.credential_issued(
            credential_id=credential_id,
            kind=subject.kind,
            title=signed["name"],
            learner_name=who.name,
            page_url=f"{self.base_url}/verify/{credential_id}",
            issuer_name=self.profile.name,
        )
        await conn.execute(
            email.insert().values(
                id=message.message_id,
                credential_id=credential_id,
                to_address=who.email,
                subject=message.subject,
                body_text=message.text,
                body_html=message.html,
                created_at=now,
            )
        )
        await outbox.add(conn, event(credential_id, signed["id"]), now=now)
        return credential_id

    async def issue_if_ready(
        self, conn: AsyncConnection, enrolment_id: UUID, kind: str, *, now: datetime
    ) -> UUID | None:
        """Issue the pending award of this enrolment once everything it needs is known."""
        await lock(conn, "issuer.issue", enrolment_id)
        pending = (
            await conn.execute(
                select(award)
                .where(
                    award.c.enrolment_id == enrolment_id,
                    award.c.kind == kind,
                    award.c.status == "pending",
                )
                .with_for_update()
            )
        ).first()
        if pending is None:
            return None
        who = (
            await conn.execute(select(recipient).where(recipient.c.enrolment_id == enrolment_id))
        ).first()
        snapshot = await conn.scalar(
            select(achievement.c.snapshot).where(
                achievement.c.micro_credential_id == pending.micro_credential_id,
                achievement.c.version == pending.micro_credential_version,
            )
        )
        if who is None or snapshot is None:
            return None
        await conn.execute(
            update(award)
            .where(award.c.enrolment_id == enrolment_id, award.c.kind == kind)
            .values(status="issued")
        )
        if await repository.live_credential(conn, enrolment_id, kind) is not None:
            return None
        base_id = achievement_url(
            self.base_url, pending.micro_credential_id, pending.micro_credential_version
        )
        subject = Subject(
            kind=kind,
            learner_id=pending.learner_id,
            title=snapshot["title"],
            achievement_id=base_id if kind == Kind.MICRO_CREDENTIAL else f"{base_id}/attendance",
            enrolment_id=enrolment_id,
            micro_credential_id=pending.micro_credential_id,
            micro_credential_version=pending.micro_credential_version,
        )
        learner = Recipient(name=who.name, email=who.email, did=who.did)
        common = {
            "learner_id": pending.learner_id,
            "enrolment_id": enrolment_id,
            "micro_credential_id": pending.micro_credential_id,
            "micro_credential_version": pending.micro_credential_version,
            "issued_at": now,
        }
        if kind == Kind.MICRO_CREDENTIAL:
            passed = Award(pending.score, list(pending.evidence), pending.awarded_at)
            issued = await self._issue(
                conn,
                subject,
                learner,
                lambda issuance: open_badge_credential(issuance, snapshot, passed),
                lambda cid, url: CredentialIssued(credential_id=cid, url=url, **common),
                now=now,
            )
            await self.check_stacks(
                conn,
                pending.learner_id,
                await repository.stacks_with_member(conn, pending.micro_credential_id),
                now=now,
            )
            return issued
        attended = Attendance(pending.sessions_attended, pending.sessions_total, pending.awarded_at)
        return await self._issue(
            conn,
            subject,
            learner,
            lambda issuance: attendance_certificate(issuance, snapshot, attended),
            lambda cid, url: CertificateOfAttendanceIssued(credential_id=cid, url=url, **common),
            now=now,
        )

    async def check_stacks(
        self,
        conn: AsyncConnection,
        learner_id: UUID,
        stacks: list[dict[str, Any]],
        *,
        now: datetime,
    ) -> list[UUID]:
        """Issue the credential of every stack the learner's credentials now complete."""
        issued: list[UUID] = []
        for snapshot in stacks:
            rule = StackRule.of(snapshot)
            await lock(conn, "issuer.stack", learner_id, rule.stack_id)
            if await repository.live_stack_credential(conn, learner_id, rule.stack_id):
                continue
            members = rule.completion(await repository.held_members(conn, learner_id))
            if members is None:
                continue
            issued.append(await self._issue_stack(conn, learner_id, snapshot, members, now=now))
        return issued

    async def _issue_stack(
        self,
        conn: AsyncConnection,
        learner_id: UUID,
        snapshot: dict[str, Any],
        members: list[HeldMember],
        *,
        now: datetime,
    ) -> UUID:
        latest = (
            await conn.execute(
                select(credential.c.recipient_name, credential.c.recipient_email, recipient.c.did)
                .outerjoin(recipient, recipient.c.enrolment_id == credential.c.enrolment_id)
                .where(
                    credential.c.document["id"].as_string().in_([m.credential_url for m in members])
                )
                .order_by(credential.c.issued_at.desc())
                .limit(1)
            )
        ).one()
        titles = await repository.titles(conn, list(snapshot["members"]))
        stack_id, version = UUID(snapshot["stack_id"]), int(snapshot["version"])
        return await self._issue(
            conn,
            Subject(
                kind=Kind.STACK,
                learner_id=learner_id,
                title=snapshot["title"],
                achievement_id=stack_url(self.base_url, stack_id, version),
                stack_id=stack_id,
                stack_version=version,
            ),
            Recipient(latest.recipient_name, latest.recipient_email, latest.did),
            lambda issuance: stack_credential(issuance, snapshot, members, titles),
            lambda cid, url: StackCredentialIssued(
                credential_id=cid,
                learner_id=learner_id,
                stack_id=stack_id,
                stack_version=version,
                member_credential_ids=[UUID(m.credential_url.rsplit("/", 1)[1]) for m in members],
                url=url,
                issued_at=now,
            ),
            now=now,
        )

    # -- status changes -------------------------------------------------------------

    async def change_status(
        self,
        conn: AsyncConnection,
        credential_id: UUID,
        action: str,
        *,
        reason: str,
        now: datetime,
    ) -> str:
        """Revoke, suspend or reinstate; re-sign the status lists it touches; publish it.

        Revoking a member credential also revokes the stack credentials that counted it.
        Raises NotFound, or StatusChangeRefused when the current status forbids it.
        """
        row = await repository.credential_row(conn, credential_id, for_update=True)
        if row is None:
            raise NotFound(f"No credential {credential_id}.")
        status = next_status(row.status, action)
        await conn.execute(
            update(credential)
            .where(credential.c.id == credential_id)
            .values(status=status, status_reason=reason, status_changed_at=now)
        )
        entry = await repository.status_of(conn, credential_id)
        if entry is not None:
            await repository.lock_status_list(conn, entry.list_number)
            touched = {"suspension"} if action != "revoke" else {"revocation"}
            if row.status == Status.SUSPENDED:
                touched.add("suspension")
            for purpose in sorted(touched):
                await self._sign_status_list(conn, entry.list_number, purpose, now=now)
        event: Event
        if action == "revoke":
            event = CredentialRevoked(
                credential_id=credential_id,
                learner_id=row.learner_id,
                reason=reason,
                revoked_at=now,
            )
        elif action == "suspend":
            event = CredentialSuspended(
                credential_id=credential_id,
                learner_id=row.learner_id,
                reason=reason,
                suspended_at=now,
            )
        else:
            event = CredentialReinstated(
                credential_id=credential_id, learner_id=row.learner_id, reinstated_at=now
            )
        await outbox.add(conn, event, now=now)
        if action == "revoke" and row.kind == Kind.MICRO_CREDENTIAL:
            await self._revoke_stacks_counting(conn, row, reason, now=now)
        return status

    async def _revoke_stacks_counting(
        self, conn: AsyncConnection, member: Any, reason: str, *, now: datetime
    ) -> None:
        for other in await repository.credentials_of_learner(conn, member.learner_id):
            evidence = other.document.get("evidence", [])
            counted = any(item.get("id") == member.document["id"] for item in evidence)
            if other.kind == Kind.STACK and other.status != Status.REVOKED and counted:
                await self.change_status(
                    conn,
                    other.id,
                    "revoke",
                    reason=f"Member credential {member.title} revoked: {reason}",
                    now=now,
                )

    # -- the learner's record -------------------------------------------------------

    async def learner_record(
        self, conn: AsyncConnection, learner_id: UUID, *, now: datetime
    ) -> dict[str, Any]:
        """The learner's active credentials as a signed CLR 2.0 ClrCredential."""
        rows = [
            row
            for row in await repository.credentials_of_learner(conn, learner_id)
            if row.status == Status.ACTIVE
        ]
        if not rows:
            raise NotFound("This learner holds no active credential yet.")
        latest = rows[-1]
        record = clr.clr_credential(
            record_id=uuid4(),
            issuer=self.profile,
            base_url=self.base_url,
            learner_name=latest.recipient_name,
            email=latest.recipient_email,
            salt=new_salt(),
            credentials=[row.document for row in rows],
            at=now,
        )
        return self.sign(record, at=now)

    async def stack_progress(self, conn: AsyncConnection, learner_id: UUID) -> list[dict[str, Any]]:
        held = await repository.held_members(conn, learner_id)
        stacks = await repository.stacks_with_any_member(
            conn, sorted({h.micro_credential_id for h in held}, key=str)
        )
        titles = await repository.titles(conn, [m for s in stacks for m in s["members"]])
        progress = []
        for snapshot in stacks:
            view = StackRule.of(snapshot).progress(held)
            for member in view["members"]:
                member["title"] = titles.get(member["micro_credential_id"])
            done = await repository.live_stack_credential(
                conn, learner_id, UUID(snapshot["stack_id"])
            )
            progress.append(
                {
                    **view,
                    "title": snapshot["title"],
                    "kind": snapshot["kind"],
                    "credential_id": str(done.id) if done else None,
                }
            )
        return progress

    # -- consumed events ------------------------------------------------------------

    async def assessment_passed(
        self, conn: AsyncConnection, event: AssessmentPassed, received: Received
    ) -> None:
        values = {
            "learner_id": event.learner_id,
            "micro_credential_id": event.micro_credential_id,
            "micro_credential_version": event.micro_credential_version,
            "score": event.score,
            "evidence": event.evidence,
            "awarded_at": event.decided_at,
            "status": "pending",
        }
        statement = insert(award).values(
            enrolment_id=event.enrolment_id, kind=Kind.MICRO_CREDENTIAL, **values
        )
        # a pass after a withdrawn result (a regrade) is a new award; any other repeat is not
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["enrolment_id", "kind"],
                set_=values,
                where=award.c.status == "withdrawn",
            )
        )
        await self.issue_if_ready(conn, event.enrolment_id, Kind.MICRO_CREDENTIAL, now=now())

    async def attendance_only_completed(
        self, conn: AsyncConnection, event: AttendanceOnlyCompleted, received: Received
    ) -> None:
        await conn.execute(
            insert(award)
            .values(
                enrolment_id=event.enrolment_id,
                kind=Kind.ATTENDANCE,
                learner_id=event.learner_id,
                micro_credential_id=event.micro_credential_id,
                micro_credential_version=event.micro_credential_version,
                sessions_attended=event.sessions_attended,
                sessions_total=event.sessions_total,
                evidence=[],
                awarded_at=event.decided_at,
                status="pending",
            )
            .on_conflict_do_nothing()
        )
        await self.issue_if_ready(conn, event.enrolment_id, Kind.ATTENDANCE, now=now())

    async def result_withdrawn(
        self, conn: AsyncConnection, event: ResultWithdrawn, received: Received
    ) -> None:
        """The released result no longer stands: revoke its credential, or never issue it.

        `released_outcome` names the result: a pass (the default, for events that predate
        the field) or attendance only (the certificate of attendance).
        """
        kind = (
            Kind.ATTENDANCE
            if event.released_outcome == "attendance_only"
            else Kind.MICRO_CREDENTIAL
        )
        await lock(conn, "issuer.issue", event.enrolment_id)
        await conn.execute(
            update(award)
            .where(award.c.enrolment_id == event.enrolment_id, award.c.kind == kind)
            .values(status="withdrawn")
        )
        issued = await repository.live_credential(conn, event.enrolment_id, kind)
        if issued is not None:
            await self.change_status(
                conn, issued.id, "revoke", reason=f"Result withdrawn: {event.reason}", now=now()
            )

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
        for kind in (Kind.MICRO_CREDENTIAL, Kind.ATTENDANCE):
            await self.issue_if_ready(conn, event.enrolment_id, kind, now=now())

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
            select(award.c.enrolment_id, award.c.kind).where(
                award.c.micro_credential_id == event.micro_credential_id,
                award.c.micro_credential_version == event.version,
                award.c.status == "pending",
            )
        )
        for enrolment_id, kind in waiting.all():
            await self.issue_if_ready(conn, enrolment_id, kind, now=now())

    async def stack_published(
        self, conn: AsyncConnection, event: StackPublished, received: Received
    ) -> None:
        """Record the stack; learners who already hold its members may complete it now
        (against its newest version, whatever order the versions arrived in)."""
        await conn.execute(
            insert(stack)
            .values(
                stack_id=event.stack_id,
                version=event.version,
                snapshot=event.model_dump(mode="json"),
            )
            .on_conflict_do_nothing()
        )
        snapshot = await repository.newest_stack(conn, event.stack_id)
        for learner_id in await repository.learners_holding(conn, snapshot["members"]):
            await self.check_stacks(conn, learner_id, [snapshot], now=now())
