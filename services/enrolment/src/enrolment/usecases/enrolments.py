"""Enrolling, and every later decision on an enrolment by its learner, staff or a timer."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.envelope import Event
from enrolment import records, repository
from enrolment.domain import Enrolment, EnrolmentError, Offering
from enrolment.domain.eligibility import (
    LearnerRecord,
    check_language,
    check_prerequisites,
    declaration_satisfied,
    missing_prerequisites,
)
from enrolment.domain.states import Status
from enrolment.records import LearnerProfile
from enrolment.tables import outbox
from enrolment.usecases import NotFound, ProfileRequired
from enrolment.usecases.learners import update_email
from enrolment.usecases.transitions import (
    Policy,
    decided,
    declaration_ok,
    emit,
    fill_from_waitlist,
    transition,
)


class AlreadyEnrolled(EnrolmentError):
    code = "already-enrolled"


async def _profile(
    conn: AsyncConnection, learner_id: UUID, email: str, now: datetime
) -> LearnerProfile:
    """The learner's profile, locked, carrying the email their sign-in verified."""
    await records.lock_learner(conn, learner_id)
    profile = await records.learner_profile(conn, learner_id)
    if profile is None:
        raise ProfileRequired(
            "Create your learner profile (PUT /learners/me) with the name to appear on "
            "your credential before enrolling."
        )
    if profile.email != email:
        await update_email(conn, learner_id, email, now)
    return profile


async def _open_offering(
    conn: AsyncConnection, learner_id: UUID, offering_id: UUID, now: datetime
) -> Offering:
    """The offering, locked, open now, in which the learner has no active enrolment."""
    target = await repository.get_offering(conn, offering_id, for_update=True)
    if target is None:
        raise NotFound(f"No offering {offering_id} is known to the enrolment service.")
    if existing := await repository.active_enrolment_of(conn, learner_id, offering_id):
        raise AlreadyEnrolled(
            f"You already have enrolment {existing} in this offering.", enrolment_id=str(existing)
        )
    target.check_open(now)
    return target


async def enrol(
    conn: AsyncConnection,
    *,
    learner_id: UUID,
    learner_subject: str,
    email: str,
    offering_id: UUID,
    language_experience: bool | None,
    experience_statement: str | None,
    policy: Policy,
    now: datetime,
) -> Enrolment:
    """A new enrolment of the learner (whose verified `email` it carries) in the offering.

    What depends only on the learner (locked first) is read before the offering is locked:
    every enrolment in the offering waits for that lock, so it is held for as few round
    trips as counting its seats needs."""
    profile = await _profile(conn, learner_id, email, now)
    record, declaration = await records.learner_facts(conn, learner_id)
    target = await _open_offering(conn, learner_id, offering_id, now)
    requirements = await records.requirements(conn, offering_id)
    check_language(
        requirements,
        record,
        declared_experience=language_experience,
        entry_levels=policy.language_entry_levels,
    )
    eligible = check_prerequisites(requirements, record, experience_statement=experience_statement)
    created, events = Enrolment.request(
        enrolment_id=uuid4(),
        learner_id=learner_id,
        learner_name=profile.name_on_credential,
        email=email,
        offering=target,
        eligible=eligible,
        seats_free=await repository.seats_free(conn, target),
        declaration_ok=declaration_satisfied(record, declaration),
        hold_until=now + policy.seat_hold,
        at=now,
        language_experience=language_experience,
        experience_statement=experience_statement,
    )
    await repository.insert(conn, created, learner_subject=learner_subject, now=now)
    await emit(conn, events, now)
    return created


async def decide_eligibility(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    approved: bool,
    note: str,
    decided_by: str,
    policy: Policy,
    now: datetime,
) -> Enrolment:
    async def decide(item: Enrolment) -> list[Event]:
        return item.decide_eligibility(
            approved=approved,
            note=note,
            seats_free=await repository.seats_free(conn, item.offering),
            declaration_ok=await declaration_ok(conn, item.learner_id),
            hold_until=now + policy.seat_hold,
            at=now,
        )

    return await transition(
        conn,
        enrolment_id,
        decide,
        now=now,
        policy=policy,
        eligibility_decided_by=decided_by,
        eligibility_note=note,
    )


async def accept_seat(
    conn: AsyncConnection, enrolment_id: UUID, *, learner_id: UUID, policy: Policy, now: datetime
) -> Enrolment:
    """The learner takes the seat offered to them."""

    async def decide(item: Enrolment) -> list[Event]:
        if item.learner_id != learner_id:
            raise NotFound(f"No enrolment {enrolment_id}.")
        return item.accept_seat(
            declaration_ok=await declaration_ok(conn, item.learner_id),
            hold_until=now + policy.seat_hold,
            at=now,
        )

    return await transition(conn, enrolment_id, decide, now=now, policy=policy)


async def cancel_by_learner(
    conn: AsyncConnection, enrolment_id: UUID, *, policy: Policy, now: datetime
) -> Enrolment:
    return await transition(
        conn,
        enrolment_id,
        lambda item: decided(item.cancel_by_learner(now)),
        now=now,
        policy=policy,
    )


async def withdraw(
    conn: AsyncConnection, enrolment_id: UUID, *, reason: str, policy: Policy, now: datetime
) -> Enrolment:
    return await transition(
        conn,
        enrolment_id,
        lambda item: decided(item.withdraw(reason=reason, at=now)),
        now=now,
        policy=policy,
    )


async def lapse_offer(
    conn: AsyncConnection, enrolment_id: UUID, *, policy: Policy, now: datetime
) -> Enrolment:
    """The sweeper's call when a seat offer's time ran out."""
    return await transition(
        conn, enrolment_id, lambda item: decided(item.offer_lapsed(now)), now=now, policy=policy
    )


async def transfer(
    conn: AsyncConnection,
    enrolment_id: UUID,
    *,
    to_offering_id: UUID,
    policy: Policy,
    now: datetime,
) -> Enrolment:
    """Move the enrolment to another offering; its seat in the old one goes to the waitlist."""
    current = await repository.get(conn, enrolment_id)
    if current is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    await records.lock_learner(conn, current.learner_id)
    locked: dict[UUID, Offering] = {}
    for offering_id in sorted({current.offering.id, to_offering_id}):
        found = await repository.get_offering(conn, offering_id, for_update=True)
        if found is None:
            raise NotFound(f"No offering {offering_id}.")
        locked[offering_id] = found
    item = await repository.get(conn, enrolment_id, for_update=True)
    if item is None or item.offering.id != current.offering.id:
        raise EnrolmentError("The enrolment changed meanwhile; try again.")
    source, target = locked[item.offering.id], locked[to_offering_id]
    event = item.transfer(to=target, seats_free=await repository.seats_free(conn, target), at=now)
    await repository.save(conn, item, now=now)
    await emit(conn, [event], now)
    await fill_from_waitlist(conn, source, policy=policy, now=now)
    return item


async def reconsider_awaiting_approval(
    conn: AsyncConnection, learner_id: UUID, *, policy: Policy, now: datetime
) -> None:
    """A learner who now holds every prerequisite no longer needs staff approval."""
    await records.lock_learner(conn, learner_id)
    record: LearnerRecord = await records.learner_record(conn, learner_id)
    for enrolment_id in await repository.of_learner_in(conn, learner_id, Status.AWAITING_APPROVAL):
        item = await repository.get(conn, enrolment_id)
        if item is None:
            continue
        requirements = await records.requirements(conn, item.offering.id)
        if not missing_prerequisites(requirements, record):
            await decide_eligibility(
                conn,
                enrolment_id,
                approved=True,
                note="every prerequisite is now held",
                decided_by="credentials held",
                policy=policy,
                now=now,
            )


async def reannounce(conn: AsyncConnection, enrolment_id: UUID, *, now: datetime) -> list[str]:
    """Stage the enrolment's confirmation again with a new event id (the reconciler's
    repair); consumers apply it idempotently. Its types."""
    found = await repository.get(conn, enrolment_id)
    if found is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    event = found.reannouncement()
    await outbox.add(conn, event, now=now)
    return [event.type_name()]
