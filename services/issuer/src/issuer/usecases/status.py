"""A credential's status: revoke, suspend, reinstate; a withdrawn result revokes."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.assessment import ResultWithdrawn
from credstack.contracts.envelope import Event, Received
from credstack.kafka import Handler
from credstack.locks import lock
from issuer import inputs, repository
from issuer.domain import Action, AwardState, Credential, CredentialNotFound, Kind, Status
from issuer.identity import Issuer
from issuer.tables import outbox
from issuer.usecases import status_lists


async def change_status(
    conn: AsyncConnection,
    issuer: Issuer,
    credential_id: UUID,
    action: Action,
    *,
    reason: str,
    at: datetime,
) -> Status:
    """Revoke, suspend or reinstate; re-sign the status lists it touches; publish it.

    Revoking a member credential also revokes the stack credentials that counted it.
    Raises CredentialNotFound, or StatusChangeRefused when the current status forbids it.
    """
    found = await repository.credential_by_id(conn, credential_id, for_update=True)
    if found is None:
        raise CredentialNotFound(credential_id)
    await _change(conn, issuer, found, action, reason=reason, at=at)
    return found.status


async def _change(
    conn: AsyncConnection,
    issuer: Issuer,
    changed: Credential,
    action: Action,
    *,
    reason: str,
    at: datetime,
) -> None:
    before = changed.status
    event = changed.change(action, reason, at)
    await repository.save_status(conn, changed, at=at)
    place = await repository.status_of(conn, changed.id)
    if place is not None:
        await repository.lock_status_list(conn, place.list_number)
        for purpose in Credential.touched_by(action, before):
            await status_lists.sign(conn, issuer, place.list_number, purpose, at=at)
    await outbox.add(conn, event, now=at)
    if action is Action.REVOKE:
        held = await repository.credentials_of_learner(conn, changed.learner_id)
        for stack in changed.stacks_to_revoke(held):
            member_reason = f"Member credential {changed.title} revoked: {reason}"
            await change_status(conn, issuer, stack.id, Action.REVOKE, reason=member_reason, at=at)


async def result_withdrawn(
    issuer: Issuer, conn: AsyncConnection, event: ResultWithdrawn, received: Received
) -> None:
    """The released result no longer stands: revoke its credential, or never issue it.

    `released_outcome` names the result: a pass (the default, for events that predate
    the field) or attendance only (the certificate of attendance).
    """
    kind = Kind.ATTENDANCE if event.released_outcome == "attendance_only" else Kind.MICRO_CREDENTIAL
    await lock(conn, "issuer.issue", event.enrolment_id)
    if not await inputs.apply_decision(conn, event.enrolment_id, event.sequence, received.type):
        return  # a newer decision (a later pass after a regrade) already stands
    await inputs.save_award_state(conn, event.enrolment_id, kind, AwardState.WITHDRAWN)
    issued = await repository.live_credential(conn, event.enrolment_id, kind)
    if issued is not None:
        await change_status(
            conn,
            issuer,
            issued.id,
            Action.REVOKE,
            reason=f"Result withdrawn: {event.reason}",
            at=received.time,
        )


def handlers(issuer: Issuer) -> dict[type[Event], Handler]:
    return {ResultWithdrawn: partial(result_withdrawn, issuer)}
