"""Grade intake: record what an LMS client sent, map it to an enrolment, decide.

A grade is recorded once: a second delivery with the same id (or, for a format without
ids, identical to the stream's latest grade) changes nothing. A grade is mapped by the
integration's identifiers, never by email; one that maps to nobody is quarantined for
staff. A grade for an enrolment not confirmed yet is kept and decided on confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import provider_links, repository
from assessment.domain import GradeStatus, Result, role
from assessment.formats import Learner, Submission, jsonable
from assessment.registry import LmsClient
from assessment.tables import grade, offering, roster_link
from assessment.usecases import Conflict, NotServed, Unprocessable
from assessment.usecases.results import settle_all
from credstack.auth import learner_id_for
from credstack.locks import lock


class StaleScore(Conflict):
    """An AGS score not newer than the one already stored for the same user and item."""

    code = "stale-score"


class UnknownOutcome(Unprocessable):
    """A grade naming a learning outcome the micro-credential does not have."""

    code = "unknown-outcome"


class ReceiptStatus(StrEnum):
    RECORDED = "recorded"
    KEPT = "kept"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Receipt:
    """What became of one grade.

    status: `recorded` (for a confirmed enrolment), `kept` (the enrolment is not
    confirmed yet), `quarantined` (maps to nobody; staff resolve it) or `duplicate`.
    """

    status: ReceiptStatus
    grade_id: int
    enrolment_id: UUID | None
    confirmed: bool = False
    result: Result | None = None
    note: str | None = None


@dataclass(frozen=True)
class Mapping:
    """The enrolment a grade is about (None: quarantined, `note` says why). `link` is the
    learner identifier to link to it automatically (by the identity provider's subject)."""

    enrolment_id: UUID | None
    offering_id: UUID | None
    note: str | None = None
    link: str | None = None


class _Candidate(Protocol):
    @property
    def enrolment_id(self) -> UUID: ...

    @property
    def lms_course_ref(self) -> str | None: ...


C = TypeVar("C", bound=_Candidate)


@dataclass(frozen=True)
class _Linked:
    """The enrolment a roster link names."""

    enrolment_id: UUID
    offering_id: UUID
    lms_course_ref: str | None


def _in_course(candidates: list[C], learner: Learner) -> list[C]:
    """Candidates in several enrolments narrowed to those in the grade's LMS course."""
    if len({c.enrolment_id for c in candidates}) > 1 and learner.course_refs:
        in_course = [c for c in candidates if c.lms_course_ref in learner.course_refs]
        return in_course or candidates
    return candidates


async def resolve(conn: AsyncConnection, client: LmsClient, learner: Learner) -> Mapping:
    """The enrolment a grade is about, by the integration's own identifiers."""
    if learner.offering_id is not None and not client.serves(learner.offering_id):
        raise NotServed(f"Client {client.id} is not registered for offering {learner.offering_id}.")
    if learner.enrolment_id is not None:
        offering_id = await repository.enrolment_offering(conn, learner.enrolment_id)
        if offering_id is not None and not client.serves(offering_id):
            raise NotServed(
                f"Enrolment {learner.enrolment_id} is in offering {offering_id}, "
                f"which client {client.id} is not registered for."
            )
        return Mapping(learner.enrolment_id, offering_id)
    if not learner.subjects:
        return Mapping(None, learner.offering_id, "the grade names no learner")
    query = (
        select(roster_link.c.enrolment_id, roster_link.c.offering_id, offering.c.lms_course_ref)
        .outerjoin(offering, offering.c.id == roster_link.c.offering_id)
        .where(
            roster_link.c.client_id == client.id,
            roster_link.c.subject.in_(learner.subjects),
            roster_link.c.offering_id.in_(client.offering_ids),
        )
    )
    if learner.offering_id is not None:
        query = query.where(roster_link.c.offering_id == learner.offering_id)
    candidates = _in_course(
        [
            _Linked(r.enrolment_id, r.offering_id, r.lms_course_ref)
            for r in await conn.execute(query)
        ],
        learner,
    )
    enrolments = {c.enrolment_id: c.offering_id for c in candidates}
    who = ", ".join(learner.subjects)
    if len(enrolments) == 1:
        ((enrolment_id, offering_id),) = enrolments.items()
        return Mapping(enrolment_id, offering_id)
    if not enrolments and client.links_by_identity_provider:
        return await _by_identity_provider(conn, client, learner)
    if not enrolments:
        return Mapping(None, learner.offering_id, f"no roster link for {who}")
    return Mapping(
        None,
        learner.offering_id,
        f"{who} is linked to {len(enrolments)} enrolments and the grade does not say which "
        "offering it is for",
    )


async def _by_identity_provider(
    conn: AsyncConnection, client: LmsClient, learner: Learner
) -> Mapping:
    """A learner with no roster link, named by the identity provider's subject: their one
    confirmed enrolment in the client's offerings (in the grade's offering or course)."""
    offerings = (
        {learner.offering_id} if learner.offering_id is not None else set(client.offering_ids)
    )
    candidates = _in_course(
        await provider_links.confirmed_enrolments(
            conn,
            {learner_id_for(p.subject): p.identifier for p in learner.provider_subjects},
            offerings,
        ),
        learner,
    )
    subjects = ", ".join(p.subject for p in learner.provider_subjects) or "(none)"
    who = f"no roster link for {', '.join(learner.subjects)}, and the identity-provider subject"
    if len(candidates) == 1:
        (found,) = candidates
        return Mapping(found.enrolment_id, found.offering_id, link=found.identifier)
    if not candidates:
        return Mapping(
            None,
            learner.offering_id,
            f"{who} {subjects} has no confirmed enrolment in this client's offerings",
        )
    return Mapping(
        None,
        learner.offering_id,
        f"{who} {subjects} has {len(candidates)} confirmed enrolments in this client's "
        "offerings and the grade does not say which it is for",
    )


async def _earlier(
    conn: AsyncConnection, client: LmsClient, submission: Submission
) -> Receipt | None:
    """The receipt of this very grade if it was received before (a retry)."""
    query = select(grade.c.id, grade.c.fingerprint, grade.c.enrolment_id).where(
        grade.c.client_id == client.id
    )
    if submission.delivery_id is not None:
        query = query.where(
            grade.c.source == submission.source, grade.c.delivery_id == submission.delivery_id
        )
    else:
        query = (
            query.where(grade.c.stream == submission.stream).order_by(grade.c.id.desc()).limit(1)
        )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    if row.fingerprint == submission.fingerprint:
        return Receipt(ReceiptStatus.DUPLICATE, row.id, row.enrolment_id)
    if submission.delivery_id is None:
        return None
    if submission.refuse_stale:
        raise StaleScore(
            f"A different score with the same timestamp was already recorded "
            f"({submission.graded_at.isoformat() if submission.graded_at else ''}); "
            "send a newer timestamp."
        )
    if submission.source == "native":
        raise Unprocessable(
            "This Idempotency-Key was already used with a different grade (as for every "
            "Credstack POST, a key names one request)."
        )
    raise Conflict(
        f"{submission.source} delivery {submission.delivery_id} was already received "
        "with different content."
    )


async def _refuse_stale(conn: AsyncConnection, client: LmsClient, submission: Submission) -> None:
    """A stream that promises ordered scores (`refuse_stale`) may not send an older one."""
    if not submission.refuse_stale or submission.graded_at is None:
        return
    newest = await conn.scalar(
        select(func.max(grade.c.graded_at)).where(
            grade.c.client_id == client.id, grade.c.stream == submission.stream
        )
    )
    if newest is not None and submission.graded_at <= newest:
        raise StaleScore(
            f"The score's timestamp {submission.graded_at.isoformat()} is not newer than "
            f"the stored one ({newest.isoformat()})."
        )


async def _refuse_unknown_outcomes(
    conn: AsyncConnection, submission: Submission, offering_id: UUID | None
) -> None:
    if not submission.outcomes or offering_id is None:
        return
    known = await repository.offering_outcomes(conn, offering_id)
    unknown = sorted({o.outcome_id for o in submission.outcomes} - (known or set()))
    if known is not None and unknown:
        raise UnknownOutcome(
            f"The micro-credential has no learning outcome {', '.join(unknown)} "
            f"(it has {', '.join(sorted(known))})."
        )


async def _record(
    conn: AsyncConnection, client: LmsClient, submission: Submission, *, now: datetime
) -> Receipt:
    if (earlier := await _earlier(conn, client, submission)) is not None:
        return earlier
    await _refuse_stale(conn, client, submission)
    mapping = await resolve(conn, client, submission.learner)
    await _refuse_unknown_outcomes(conn, submission, mapping.offering_id)
    formative = role(
        submission.source,
        submission.activity,
        await repository.declared_summative(conn, client.id, mapping.offering_id),
    )
    grade_id = await conn.scalar(
        insert(grade)
        .values(
            client_id=client.id,
            source=submission.source,
            delivery_id=submission.delivery_id,
            fingerprint=submission.fingerprint,
            stream=submission.stream,
            subjects=list(submission.learner.subjects),
            course_refs=list(submission.learner.course_refs),
            offering_id=mapping.offering_id,
            enrolment_id=mapping.enrolment_id,
            score=submission.score,
            outcomes=repository.stored_outcomes(submission.outcomes),
            evidence=list(submission.evidence),
            final=submission.final,
            graded_at=submission.graded_at or now,
            received_at=now,
            status=GradeStatus.KEPT if mapping.enrolment_id else GradeStatus.QUARANTINED,
            note=mapping.note or formative,
            payload=jsonable(submission.payload),
            activity=submission.activity,
            summative=formative is None,
        )
        .on_conflict_do_nothing()
        .returning(grade.c.id)
    )
    if grade_id is None:
        # The same delivery id under another stream, recorded since we looked.
        if (earlier := await _earlier(conn, client, submission)) is not None:
            return earlier
        raise Conflict(f"{submission.source} delivery {submission.delivery_id} clashes.")
    if mapping.enrolment_id is None:
        return Receipt(ReceiptStatus.QUARANTINED, grade_id, None, note=mapping.note)
    if mapping.link is not None and mapping.offering_id is not None:
        await provider_links.record_link(
            conn,
            client_id=client.id,
            identifier=mapping.link,
            offering_id=mapping.offering_id,
            enrolment_id=mapping.enrolment_id,
            now=now,
        )
    return Receipt(ReceiptStatus.KEPT, grade_id, mapping.enrolment_id)


async def receive(
    conn: AsyncConnection, client: LmsClient, submissions: list[Submission], *, now: datetime
) -> list[Receipt]:
    """Record the grades of one request (all or none), then decide their enrolments.

    Streams are locked in a fixed order first, so concurrent requests touching the same
    streams queue instead of deadlocking.
    """
    for stream in sorted({s.stream for s in submissions}):
        await lock(conn, "assessment.intake", client.id, stream)
    receipts = [await _record(conn, client, s, now=now) for s in submissions]
    settled = await settle_all(conn, {r.enrolment_id for r in receipts if r.enrolment_id}, now=now)
    return [
        replace(
            r,
            status=ReceiptStatus.RECORDED
            if r.status is ReceiptStatus.KEPT and settled[r.enrolment_id].confirmed
            else r.status,
            confirmed=settled[r.enrolment_id].confirmed,
            result=settled[r.enrolment_id].result,
        )
        if r.enrolment_id
        else r
        for r in receipts
    ]
