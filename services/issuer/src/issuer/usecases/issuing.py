"""Issuing: awards become signed credentials once everything they need is known.

The inputs of a credential come from three services in no fixed order; an award waits
until its recipient and achievement are known, then is issued once. Decisions about one
enrolment run under an advisory lock on it, decisions about one learner's stack under a
lock on (learner, stack), so that two inputs landing at once can neither both miss nor
both make a decision. Handlers take the time of the event they handle: a credential is
issued at the time of the input that completed it (never before what it attests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.assessment import AssessmentPassed, AttendanceOnlyCompleted
from credstack.contracts.catalogue import MicroCredentialPublished, StackPublished
from credstack.contracts.enrolment import EnrolmentConfirmed, LearnerContactChanged
from credstack.contracts.envelope import Event, Received
from credstack.contracts.issuer import StackCredentialIssued
from credstack.kafka import Handler
from credstack.locks import lock
from issuer import inputs, repository
from issuer.domain import Action, Award, AwardState, Credential, Kind, Status
from issuer.identity import Issuer
from issuer.stacks import StackRule
from issuer.standards.openbadges3 import (
    HeldMember,
    Issuance,
    Recipient,
    achievement_url,
    attendance_certificate,
    new_salt,
    open_badge_credential,
    stack_credential,
    stack_url,
    valid_until_of,
)
from issuer.tables import outbox
from issuer.usecases import claims, endorsements, signing_batch, status, status_lists

Document = Callable[[Issuance], dict[str, Any]]

log = structlog.get_logger()


async def _issue(
    conn: AsyncConnection,
    issuer: Issuer,
    unsigned: Credential,
    who: Recipient,
    build: Document,
    event: Callable[[Credential], Event],
) -> Credential:
    """Sign the document ``build`` makes (now, or with the consumer batch being applied:
    `signing_batch`), record the credential, stage its event (the notifier tells the
    learner).

    ``unsigned`` carries everything but the document (which this fills in).
    """
    at = unsigned.issued_at
    issuance = Issuance(
        credential_id=unsigned.id,
        issuer=issuer.profile,
        recipient=who,
        base_url=issuer.base_url,
        issued_at=at,
        salt=new_salt(),
        status=await status_lists.allocate(conn, issuer, unsigned.id, at=at),
    )
    document = build(issuance)
    if not signing_batch.defer(unsigned.id, document, at=at):  # else signed with its batch
        document = await issuer.signing.sign_async(document, at=at)
    issued = replace(unsigned, document=document)
    await repository.add_credential(conn, issued)
    await outbox.add(conn, event(issued), now=at)
    return issued


def _new(
    kind: Kind, learner_id: UUID, who: Recipient, title: str, achievement_id: str, at: datetime
) -> Credential:
    """A credential about to be issued (its document is signed in `_issue`)."""
    return Credential(
        id=uuid4(),
        kind=kind,
        learner_id=learner_id,
        title=title,
        document={},
        issued_at=at,
        status=Status.ACTIVE,
        recipient_name=who.name,
        recipient_email=who.email,
        achievement_id=achievement_id,
    )


async def issue_if_ready(
    conn: AsyncConnection, issuer: Issuer, enrolment_id: UUID, kind: Kind, *, at: datetime
) -> UUID | None:
    """Issue the pending award of this enrolment once everything it needs is known."""
    await lock(conn, "issuer.issue", enrolment_id)
    pending = await inputs.pending_award(conn, enrolment_id, kind)
    if pending is None:
        return None
    who = await inputs.recipient_of(conn, enrolment_id)
    snapshot = await inputs.achievement_snapshot(
        conn, pending.micro_credential_id, pending.micro_credential_version
    )
    if who is None or snapshot is None:
        return None
    await inputs.save_award_state(conn, enrolment_id, kind, AwardState.ISSUED)
    if await repository.live_credential(conn, enrolment_id, kind) is not None:
        return None
    issued = await _issue(
        conn,
        issuer,
        _award_credential(pending, who, snapshot, issuer.base_url, at=max(at, pending.awarded_at)),
        who,
        _document_of(pending, snapshot, await _endorsements(conn, pending)),
        lambda made: pending.issue(
            made.id,
            made.url,
            at=made.issued_at,
            valid_until=valid_until_of(made.document),
            wallet_claim_offered=kind is Kind.MICRO_CREDENTIAL,
        ),
    )
    if kind is Kind.MICRO_CREDENTIAL:
        offered = await claims.offer_in_email(
            conn, issuer, issued.id, issued.learner_id, at=issued.issued_at
        )
        await outbox.add(conn, offered, now=issued.issued_at)
        stacks = await repository.stacks_with_member(conn, pending.micro_credential_id)
        await check_stacks(conn, issuer, pending.learner_id, stacks, at=issued.issued_at)
    return issued.id


def _award_credential(
    pending: Award, who: Recipient, snapshot: Mapping[str, Any], base_url: str, *, at: datetime
) -> Credential:
    base_id = achievement_url(
        base_url, pending.micro_credential_id, pending.micro_credential_version
    )
    attendance = pending.kind is Kind.ATTENDANCE
    unsigned = _new(
        pending.kind,
        pending.learner_id,
        who,
        snapshot["title"],
        f"{base_id}/attendance" if attendance else base_id,
        at,
    )
    unsigned.enrolment_id = pending.enrolment_id
    unsigned.micro_credential_id = pending.micro_credential_id
    unsigned.micro_credential_version = pending.micro_credential_version
    return unsigned


async def _endorsements(conn: AsyncConnection, pending: Award) -> list[dict[str, Any]]:
    """The endorsements a micro-credential embeds (a certificate of attendance is not the
    micro-credential: none)."""
    if pending.kind is not Kind.MICRO_CREDENTIAL:
        return []
    return await endorsements.embedded_in(
        conn, pending.micro_credential_id, pending.micro_credential_version
    )


def _document_of(
    pending: Award, snapshot: Mapping[str, Any], endorsed: list[dict[str, Any]]
) -> Document:
    if pending.kind is Kind.ATTENDANCE:
        return lambda issuance: attendance_certificate(issuance, snapshot, pending.attendance)
    return lambda issuance: open_badge_credential(issuance, snapshot, pending.passed, endorsed)


async def check_stacks(
    conn: AsyncConnection,
    issuer: Issuer,
    learner_id: UUID,
    stacks: Sequence[dict[str, Any]],
    *,
    at: datetime,
) -> list[UUID]:
    """Issue the credential of every stack the learner's credentials now complete (none
    to a learner whose personal data was erased: nothing would name them)."""
    issued: list[UUID] = []
    if not stacks or await inputs.is_erased(conn, learner_id):
        return issued
    for snapshot in stacks:
        rule = StackRule.of(snapshot)
        await lock(conn, "issuer.stack", learner_id, rule.stack_id)
        if await repository.live_stack_credential(conn, learner_id, rule.stack_id):
            continue
        members = rule.completion(await repository.held_members(conn, learner_id))
        if members is None:
            continue
        issued.append(await _issue_stack(conn, issuer, learner_id, snapshot, members, at=at))
    return issued


async def _issue_stack(
    conn: AsyncConnection,
    issuer: Issuer,
    learner_id: UUID,
    snapshot: dict[str, Any],
    members: list[HeldMember],
    *,
    at: datetime,
) -> UUID:
    who = await repository.newest_recipient(conn, [m.credential_url for m in members])
    titles = await repository.titles(conn, list(snapshot["members"]))
    stack_id, version = UUID(snapshot["stack_id"]), int(snapshot["version"])
    unsigned = _new(
        Kind.STACK,
        learner_id,
        who,
        snapshot["title"],
        stack_url(issuer.base_url, stack_id, version),
        max(at, *(m.awarded_at for m in members)),
    )
    unsigned.stack_id, unsigned.stack_version = stack_id, version
    issued = await _issue(
        conn,
        issuer,
        unsigned,
        who,
        lambda issuance: stack_credential(issuance, snapshot, members, titles),
        lambda made: StackCredentialIssued(
            credential_id=made.id,
            learner_id=learner_id,
            stack_id=stack_id,
            stack_version=version,
            member_credential_ids=[UUID(m.credential_url.rsplit("/", 1)[1]) for m in members],
            url=made.url,
            issued_at=made.issued_at,
        ),
    )
    return issued.id


# -- consumed events ----------------------------------------------------------------


async def assessment_passed(
    issuer: Issuer, conn: AsyncConnection, event: AssessmentPassed, received: Received
) -> None:
    await lock(conn, "issuer.issue", event.enrolment_id)
    if not await inputs.apply_decision(conn, event.enrolment_id, event.sequence, received.type):
        log.info("decision.stale", enrolment_id=str(event.enrolment_id), sequence=event.sequence)
        return
    earned = Award(
        enrolment_id=event.enrolment_id,
        kind=Kind.MICRO_CREDENTIAL,
        learner_id=event.learner_id,
        micro_credential_id=event.micro_credential_id,
        micro_credential_version=event.micro_credential_version,
        awarded_at=event.decided_at,
        score=event.score,
        evidence=list(event.evidence),
    )
    await lock(conn, "issuer.issue", event.enrolment_id)
    before = await inputs.award_of(conn, event.enrolment_id, earned.kind)
    if (
        before is not None
        and before.state is AwardState.ISSUED
        and (before.score, before.evidence) != (earned.score, earned.evidence)
    ):
        # A regraded pass: the credential showing the old result is revoked as
        # superseded and the released result issued, in this one transaction.
        live = await repository.live_credential(conn, event.enrolment_id, earned.kind)
        if live is not None:
            await status.change_status(
                conn,
                issuer,
                live.id,
                Action.REVOKE,
                reason=f"Superseded: the result was regraded ({before.score} to {earned.score})",
                at=received.time,
            )
        await inputs.save_award_state(conn, event.enrolment_id, earned.kind, AwardState.WITHDRAWN)
    await inputs.record_award(conn, earned, replaces_withdrawn=True)
    await issue_if_ready(conn, issuer, event.enrolment_id, earned.kind, at=received.time)


async def attendance_only_completed(
    issuer: Issuer, conn: AsyncConnection, event: AttendanceOnlyCompleted, received: Received
) -> None:
    await lock(conn, "issuer.issue", event.enrolment_id)
    if not await inputs.apply_decision(conn, event.enrolment_id, event.sequence, received.type):
        log.info("decision.stale", enrolment_id=str(event.enrolment_id), sequence=event.sequence)
        return
    earned = Award(
        enrolment_id=event.enrolment_id,
        kind=Kind.ATTENDANCE,
        learner_id=event.learner_id,
        micro_credential_id=event.micro_credential_id,
        micro_credential_version=event.micro_credential_version,
        awarded_at=event.decided_at,
        sessions_attended=event.sessions_attended,
        sessions_total=event.sessions_total,
    )
    await inputs.record_award(conn, earned, replaces_withdrawn=False)
    await issue_if_ready(conn, issuer, event.enrolment_id, earned.kind, at=received.time)


async def enrolment_confirmed(
    issuer: Issuer, conn: AsyncConnection, event: EnrolmentConfirmed, received: Received
) -> None:
    await inputs.record_recipient(conn, event)
    for kind in (Kind.MICRO_CREDENTIAL, Kind.ATTENDANCE):
        await issue_if_ready(conn, issuer, event.enrolment_id, kind, at=received.time)


async def learner_contact_changed(
    issuer: Issuer, conn: AsyncConnection, event: LearnerContactChanged, received: Received
) -> None:
    """The name and email on the learner's next credentials (those issued keep theirs);
    awards that waited for them are issued now."""
    if not await inputs.record_contact(conn, event):
        return
    for enrolment_id, kind in await inputs.awards_waiting_for_learner(conn, event.learner_id):
        await issue_if_ready(conn, issuer, enrolment_id, kind, at=received.time)


async def micro_credential_published(
    issuer: Issuer, conn: AsyncConnection, event: MicroCredentialPublished, received: Received
) -> None:
    await inputs.record_achievement(conn, event)
    waiting = await inputs.awards_waiting_for(conn, event.micro_credential_id, event.version)
    for enrolment_id, kind in waiting:
        await issue_if_ready(conn, issuer, enrolment_id, kind, at=received.time)


async def stack_published(
    issuer: Issuer, conn: AsyncConnection, event: StackPublished, received: Received
) -> None:
    """Record the stack; learners who already hold its members may complete it now
    (against its newest version, whatever order the versions arrived in)."""
    await inputs.record_stack(conn, event)
    snapshot = await repository.newest_stack(conn, event.stack_id)
    for learner_id in await repository.learners_holding(conn, snapshot["members"]):
        await check_stacks(conn, issuer, learner_id, [snapshot], at=received.time)


def handlers(issuer: Issuer) -> dict[type[Event], Handler]:
    return {
        MicroCredentialPublished: partial(micro_credential_published, issuer),
        StackPublished: partial(stack_published, issuer),
        EnrolmentConfirmed: partial(enrolment_confirmed, issuer),
        LearnerContactChanged: partial(learner_contact_changed, issuer),
        AssessmentPassed: partial(assessment_passed, issuer),
        AttendanceOnlyCompleted: partial(attendance_only_completed, issuer),
    }
