"""Enrolment's timers, kept in the database so that no restart loses one.

Nothing is scheduled in memory: every `ENROLMENT_SWEEP_SECONDS` the worker looks for
seat holds past `hold_expires_at`, waitlist offers past `offer_expires_at` and refunds
that are due, and acts on each. Several replicas may sweep at once: every step is
applied under the enrolment's locks and monotonically, and the provider's calls carry
idempotency keys.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import structlog

from credstack.clock import now as clock_now
from enrolment import repository
from enrolment.payments import ProviderError
from enrolment.usecases import enrolments
from enrolment.usecases.payment_flows import PaymentFlows

log = structlog.get_logger()


@dataclass(frozen=True)
class SweepReport:
    holds_expired: int = 0
    offers_lapsed: int = 0
    refunds_sent: int = 0


async def sweep(flows: PaymentFlows, *, now: datetime) -> SweepReport:
    async with flows.engine.connect() as conn:
        holds = await repository.due_holds(conn, now=now)
        offers = await repository.due_offers(conn, now=now)
        refunds = await repository.due_refunds(conn)
    expired = 0
    for hold in holds:
        try:
            await flows.expire_hold(hold.enrolment_id, hold.checkout_session_id, now=now)
            expired += 1
        except ProviderError as error:
            log.warning(
                "sweeper.hold_not_expired", enrolment_id=str(hold.enrolment_id), error=str(error)
            )
    for enrolment_id in offers:
        async with flows.engine.begin() as conn:
            await enrolments.lapse_offer(conn, enrolment_id, policy=flows.policy, now=now)
    sent = 0
    for enrolment_id in refunds:
        try:
            sent += await flows.send_refund(enrolment_id, now=now)
        except ProviderError as error:
            log.warning("sweeper.refund_not_sent", enrolment_id=str(enrolment_id), error=str(error))
    return SweepReport(holds_expired=expired, offers_lapsed=len(offers), refunds_sent=sent)


async def run(flows: PaymentFlows, *, every_seconds: float) -> None:
    while True:
        report = await sweep(flows, now=clock_now())
        if report != SweepReport():
            log.info("sweeper.swept", **report.__dict__)
        await asyncio.sleep(every_seconds)
