"""Catalogue use cases: load, decide, stage the events. The caller owns the transaction."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue import bulk, repository
from catalogue.domain import (
    DEFAULT_POLICY,
    CatalogueError,
    MicroCredential,
    Offering,
    OfferingPlan,
    Policy,
    Session,
    Stack,
    Status,
    WrongStatus,
    schedule_offering,
)
from catalogue.tables import outbox
from credstack.contracts.catalogue import EnrolmentOpened, MicroCredentialRevised
from credstack.refusals import Reason


class NotFound(CatalogueError):
    code = "not-found"
    reason = Reason.NOT_FOUND


class DuplicateCode(CatalogueError):
    code = "duplicate-code"
    reason = Reason.CONFLICT


class UnknownPrerequisite(CatalogueError):
    code = "unknown-prerequisite"


async def item_id(conn: AsyncConnection, code: str) -> UUID:
    """The id of the micro-credential with this code (any case)."""
    found = await repository.id_of_code(conn, code)
    if found is None:
        raise NotFound(f"No micro-credential with code {code}.")
    return found


async def _newest(conn: AsyncConnection, code: str) -> MicroCredential:
    item = await repository.get(conn, await item_id(conn, code), for_update=True)
    assert item is not None
    return item


async def resolve_prerequisites(conn: AsyncConnection, codes: list[str]) -> list[UUID]:
    ids = []
    for code in codes:
        item_id = await repository.id_of_code(conn, code)
        if item_id is None:
            raise UnknownPrerequisite(
                f"Prerequisite {code} is not a micro-credential in the catalogue."
            )
        ids.append(item_id)
    return ids


async def propose(
    conn: AsyncConnection, draft: MicroCredential, *, now: datetime
) -> MicroCredential:
    if await repository.id_of_code(conn, draft.code) or await repository.stack_id_of_code(
        conn, draft.code
    ):
        raise DuplicateCode(f"The code {draft.code} is already taken.")
    await repository.save(conn, draft, now=now)
    return draft


async def edit_draft(
    conn: AsyncConnection, code: str, changes: dict[str, Any], *, now: datetime
) -> MicroCredential:
    item = await _newest(conn, code)
    item.check_editable()
    edited = dataclasses.replace(item, **changes)
    await repository.save(conn, edited, now=now)
    return edited


async def submit(
    conn: AsyncConnection, code: str, *, now: datetime, policy: Policy = DEFAULT_POLICY
) -> MicroCredential:
    item = await _newest(conn, code)
    item.submit(policy)
    await repository.save(conn, item, now=now)
    return item


async def return_to_draft(conn: AsyncConnection, code: str, *, now: datetime) -> MicroCredential:
    item = await _newest(conn, code)
    item.return_to_draft()
    await repository.save(conn, item, now=now)
    return item


async def approve(
    conn: AsyncConnection,
    code: str,
    *,
    approver: str,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> MicroCredential:
    item = await _newest(conn, code)
    item.approve(approver, policy)
    await repository.save(conn, item, now=now)
    return item


async def publish(conn: AsyncConnection, code: str, *, now: datetime) -> MicroCredential:
    """Publish the approved version; a previously published version is superseded.

    Publishing the version already published (a client's retry) changes nothing.
    """
    item = await _newest(conn, code)
    if item.status is Status.PUBLISHED:
        return item
    previous = await repository.published(conn, item.id, for_update=True)
    event = item.publish(now, stacks=await repository.stacks_of(conn, item.id))
    if previous is not None:
        previous.supersede()
        await repository.save(conn, previous, now=now)
    await repository.save(conn, item, now=now)
    await outbox.add(conn, event, now=now)
    if previous is not None:
        await outbox.add(
            conn,
            MicroCredentialRevised(
                micro_credential_id=item.id,
                previous_version=previous.version,
                version=item.version,
                revised_at=now,
            ),
            now=now,
        )
    return item


async def revise(
    conn: AsyncConnection, code: str, *, proposer: str, now: datetime
) -> MicroCredential:
    """Start a new draft version from the published one."""
    newest = await _newest(conn, code)
    if newest.status is not Status.PUBLISHED:
        raise WrongStatus("revise (a newer version is in progress) ", newest.status)
    draft = newest.revision(newest.version + 1, proposer)
    await repository.save(conn, draft, now=now)
    return draft


async def disestablish(conn: AsyncConnection, code: str, *, now: datetime) -> MicroCredential:
    item = await repository.published(conn, await item_id(conn, code), for_update=True)
    if item is None:
        raise NotFound(f"{code} has no published version to disestablish.")
    event = item.disestablish(now)
    await repository.save(conn, item, now=now)
    await outbox.add(conn, event, now=now)
    return item


async def record_review(
    conn: AsyncConnection, code: str, *, on: date, now: datetime
) -> MicroCredential:
    item = await repository.published(conn, await item_id(conn, code), for_update=True)
    if item is None:
        raise NotFound(f"{code} has no published version to review.")
    item.record_review(on, today=now.date())
    await repository.save(conn, item, now=now)
    return item


async def schedule(conn: AsyncConnection, code: str, plan: OfferingPlan, *, now: datetime) -> UUID:
    """Schedule a cohort of the currently published version."""
    found = await item_id(conn, code)
    item = await repository.published(conn, found)
    if item is None:
        newest = await repository.get(conn, found)
        assert newest is not None
        raise WrongStatus("schedule an offering of", newest.status)
    created, event = schedule_offering(item, uuid4(), plan)
    await repository.save_offering(conn, created, now=now)
    await outbox.add(conn, event, now=now)
    await announce_open_enrolments(conn, now=now, only=created.id)
    return created.id


async def _offering(conn: AsyncConnection, offering_id: UUID) -> Offering:
    found = await repository.get_offering(conn, offering_id, for_update=True)
    if found is None:
        raise NotFound(f"No offering {offering_id}.")
    return found


async def reschedule(
    conn: AsyncConnection,
    offering_id: UUID,
    *,
    starts_on: date,
    ends_on: date,
    enrolment_opens_at: datetime,
    enrolment_closes_at: datetime,
    capacity: int,
    sessions: tuple[Session, ...] | None = None,
    now: datetime,
) -> None:
    """Move an offering's dates, enrolment window and capacity, and replace its sessions if
    given (kept sessions must fit the new dates); the rest of its plan stays."""
    target = await _offering(conn, offering_id)
    plan = dataclasses.replace(
        target.plan,
        starts_on=starts_on,
        ends_on=ends_on,
        enrolment_opens_at=enrolment_opens_at,
        enrolment_closes_at=enrolment_closes_at,
        capacity=capacity,
        sessions=target.plan.sessions if sessions is None else sessions,
    )
    event = target.reschedule(plan, now)
    await repository.save_offering(conn, target, now=now)
    await outbox.add(conn, event, now=now)


async def cancel(conn: AsyncConnection, offering_id: UUID, *, reason: str, now: datetime) -> None:
    target = await _offering(conn, offering_id)
    event = target.cancel(reason, now)
    await repository.save_offering(conn, target, now=now)
    await outbox.add(conn, event, now=now)


async def announce_open_enrolments(
    conn: AsyncConnection, *, now: datetime, only: UUID | None = None
) -> int:
    """Publish `EnrolmentOpened` for each offering whose enrolment window has opened (the
    notifier tells those whose interest it holds; no address goes on the event)."""
    announced = 0
    for opened in await repository.offerings_to_announce(conn, now, only=only):
        item = await repository.get(
            conn, opened.micro_credential_id, opened.micro_credential_version
        )
        assert item is not None
        opened.enrolment_announced = True
        await repository.save_offering(conn, opened, now=now)
        await outbox.add(
            conn,
            EnrolmentOpened(
                offering_id=opened.id,
                micro_credential_id=item.id,
                code=item.code,
                title=item.title,
                enrolment_closes_at=opened.plan.enrolment_closes_at,
                opened_at=now,
            ),
            now=now,
        )
        announced += 1
    return announced


async def propose_stack(conn: AsyncConnection, draft: Stack, *, now: datetime) -> Stack:
    if await repository.id_of_code(conn, draft.code) or await repository.stack_id_of_code(
        conn, draft.code
    ):
        raise DuplicateCode(f"The code {draft.code} is already taken.")
    await repository.save_stack(conn, draft, now=now)
    return draft


async def member_ids(conn: AsyncConnection, codes: list[str]) -> list[UUID]:
    ids = []
    for code in codes:
        ids.append(await item_id(conn, code))
    return ids


async def _stack(conn: AsyncConnection, code: str) -> Stack:
    stack_id = await repository.stack_id_of_code(conn, code)
    found = await repository.get_stack(conn, stack_id, for_update=True) if stack_id else None
    if found is None:
        raise NotFound(f"No stack with code {code}.")
    return found


async def submit_stack(conn: AsyncConnection, code: str, *, now: datetime) -> Stack:
    """Stacks follow the same lifecycle as a micro-credential."""
    item = await _stack(conn, code)
    item.submit()
    await repository.save_stack(conn, item, now=now)
    return item


async def approve_stack(conn: AsyncConnection, code: str, *, approver: str, now: datetime) -> Stack:
    item = await _stack(conn, code)
    item.approve(approver)
    await repository.save_stack(conn, item, now=now)
    return item


async def publish_stack(conn: AsyncConnection, code: str, *, now: datetime) -> Stack:
    item = await _stack(conn, code)
    event = item.publish(now)
    await outbox.add(conn, event, now=now)
    await repository.save_stack(conn, item, now=now)
    return item


IMPORT_PROPOSER = "catalogue-import"


async def _prerequisites_of(
    conn: AsyncConnection, row: bulk.Row, seen: dict[str, UUID]
) -> list[UUID]:
    """The ids of the row's prerequisites, in the catalogue or earlier in the file; each
    one neither is an error on the row."""
    assert row.draft is not None
    found_ids = []
    for prerequisite in row.draft.prerequisite_codes:
        found = seen.get(prerequisite.upper()) or await repository.id_of_code(conn, prerequisite)
        if found is None:
            row.errors.append(
                f"prerequisite_codes: {prerequisite} is neither in the catalogue "
                "nor earlier in the file"
            )
        else:
            found_ids.append(found)
    return found_ids


async def import_catalogue(
    conn: AsyncConnection,
    rows: list[bulk.Row],
    *,
    publish: bool,
    importer: str,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> bool:
    """Validate every row, then create them all, or nothing if any row is wrong.

    Imported as drafts, or, by an approver, published (an existing catalogue whose items
    were approved before): the importer is recorded as their approver.
    """
    seen: dict[str, UUID] = {}
    items: list[tuple[bulk.Row, MicroCredential]] = []
    for row in rows:
        if row.draft is None:
            continue
        code = row.draft.code.upper()
        if code in seen:
            row.errors.append(f"code: {row.draft.code} appears twice in the file")
        elif await repository.id_of_code(conn, code) or await repository.stack_id_of_code(
            conn, code
        ):
            row.errors.append(f"code: {row.draft.code} is already in the catalogue")
        prerequisites = await _prerequisites_of(conn, row, seen)
        item = MicroCredential(
            id=uuid4(),
            version=1,
            proposed_by=IMPORT_PROPOSER,
            prerequisites=prerequisites,
            **{
                n: getattr(row.draft, n)
                for n in type(row.draft).model_fields
                if n != "prerequisite_codes"
            },
        )
        seen[code] = item.id
        if publish:
            row.errors.extend(item.policy_breaches(policy))
        items.append((row, item))
    if any(row.errors for row in rows):
        return False
    for _, item in items:
        if publish:
            item.submit(policy)
            item.approve(importer, policy)
            event = item.publish(now, stacks=[])
            await outbox.add(conn, event, now=now)
        await repository.save(conn, item, now=now)
    return True
