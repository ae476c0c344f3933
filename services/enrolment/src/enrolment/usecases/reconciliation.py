"""Payment reconciliation: each started checkout compared with what the provider says.

A webhook the provider could not deliver (an outage longer than its retries, a
misconfigured secret) leaves an enrolment behind the truth: paid but still pending,
expired but still holding its seat, refunded but still confirmed. This asks the provider
for the state of every checkout session started since a time and applies what it says
through the use case the webhooks use (`apply_payment_notice`, monotonic), so running it
twice, or while webhooks arrive, changes nothing more. What it cannot repair (paid here,
unpaid at the provider) is reported for staff. The provider is never called while a
database lock is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from enrolment import repository
from enrolment.domain.states import SETTLED
from enrolment.payments import CheckoutState, ProviderError, notices_from_state
from enrolment.repository import StartedCheckout
from enrolment.usecases.payment_flows import PaymentFlows
from enrolment.usecases.payments import Outcome, apply_payment_notice


@dataclass(frozen=True)
class Repair:
    enrolment_id: UUID
    session_id: str
    before: str
    after: str


@dataclass(frozen=True)
class Disagreement:
    """The enrolment counts as paid here but the provider says the session is unpaid."""

    enrolment_id: UUID
    session_id: str
    here: str
    provider: str


@dataclass(frozen=True)
class Reconciliation:
    checked: int
    repairs: list[Repair]
    unreachable: list[UUID]
    disagreements: list[Disagreement]


async def reconcile(
    flows: PaymentFlows, *, since: datetime, now: datetime, dry_run: bool = False
) -> Reconciliation:
    """Compare each enrolment whose checkout started since `since` with the provider and
    repair the differences (or, with `dry_run`, only report them)."""
    async with flows.engine.connect() as conn:
        candidates = await repository.started_checkouts(conn, since=since)
    repairs: list[Repair] = []
    unreachable: list[UUID] = []
    disagreements: list[Disagreement] = []
    for candidate in candidates:
        try:
            state = await flows.provider.checkout_state(candidate.checkout_session_id)
        except ProviderError:
            unreachable.append(candidate.enrolment_id)
            continue
        changes = await _apply(flows, candidate, state, now=now, dry_run=dry_run)
        before = f"{candidate.status.value}, payment {candidate.payment_status.value}"
        if changes:
            repairs.append(
                Repair(candidate.enrolment_id, candidate.checkout_session_id, before, changes[-1])
            )
        elif candidate.payment_status in SETTLED and state.payment_status == "unpaid":
            disagreements.append(
                Disagreement(
                    candidate.enrolment_id,
                    candidate.checkout_session_id,
                    before,
                    f"session {state.status}, {state.payment_status}",
                )
            )
    return Reconciliation(len(candidates), repairs, unreachable, disagreements)


async def _apply(
    flows: PaymentFlows,
    candidate: StartedCheckout,
    state: CheckoutState,
    *,
    now: datetime,
    dry_run: bool,
) -> list[str]:
    """What the provider's state changed of the enrolment (rolled back with `dry_run`)."""
    async with flows.engine.connect() as conn:
        transaction = await conn.begin()
        outcomes = [
            await apply_payment_notice(
                conn,
                candidate.enrolment_id,
                notice,
                provider=flows.provider.name,
                policy=flows.policy,
                now=now,
            )
            for notice in notices_from_state(state, candidate.enrolment_id)
        ]
        await (transaction.rollback() if dry_run else transaction.commit())
    return [outcome for outcome in outcomes if outcome != Outcome.NO_CHANGE]
