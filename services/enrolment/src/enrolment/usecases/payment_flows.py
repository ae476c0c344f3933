"""Work that spans the payment provider and the database.

The provider is never called while a database lock is held: each flow reads, calls the
provider, then applies the answer in its own transaction through the use cases, where
every payment fact is applied monotonically. Used by the API (checkout, cancellation,
refunds), the sweeper and the reconciliation command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from credstack.db import autocommit
from enrolment import repository
from enrolment.domain import Enrolment, EnrolmentError, PaymentStatus, Status, WrongStatus
from enrolment.payments import (
    CheckoutRequest,
    PaymentNotice,
    PaymentProvider,
    Signal,
    notices_from_state,
)
from enrolment.settings import Settings
from enrolment.usecases import NotFound, enrolments, payments
from enrolment.usecases.transitions import Policy

log = structlog.get_logger()


class HoldExpired(EnrolmentError):
    code = "seat-hold-expired"


@dataclass
class PaymentFlows:
    engine: AsyncEngine
    provider: PaymentProvider
    policy: Policy
    settings: Settings

    async def _load(self, enrolment_id: UUID, learner_id: UUID | None) -> Enrolment:
        async with autocommit(self.engine).connect() as conn:  # one statement
            item = await repository.get(conn, enrolment_id)
        if item is None or (learner_id is not None and item.learner_id != learner_id):
            raise NotFound(f"No enrolment {enrolment_id}.")
        return item

    async def start_checkout(
        self, enrolment_id: UUID, *, learner_id: UUID, now: datetime
    ) -> Enrolment:
        """The enrolment with its checkout session (created on the first call)."""
        item = await self._load(enrolment_id, learner_id)
        if item.status is not Status.PENDING_PAYMENT:
            raise WrongStatus(
                f"This enrolment is {item.status.value}: there is nothing to pay now.",
                enrolment_status=item.status.value,
            )
        if item.hold_expires_at is None or item.hold_expires_at <= now:
            raise HoldExpired("The seat hold has expired; the seat is being released.")
        if item.checkout_session_id is not None:
            return item
        minimum = now + timedelta(seconds=self.provider.minimum_session_seconds)
        offering = item.offering
        session = await self.provider.create_checkout(
            CheckoutRequest(
                enrolment_id=item.id,
                amount_cents=item.fee_cents,
                currency=item.currency,
                description=f"Upfront fee: {offering.title} ({offering.code})",
                customer_email=item.email,
                expires_at=max(item.hold_expires_at, minimum),
                success_url=self.settings.success_url(item.id),
                cancel_url=self.settings.cancel_url(item.id),
                metadata={
                    "enrolment_id": str(item.id),
                    "learner_id": str(item.learner_id),
                    "offering_id": str(offering.id),
                    "credential_code": offering.code,
                },
            )
        )
        async with self.engine.begin() as conn:
            return await payments.checkout_started(
                conn,
                item.id,
                session_id=session.id,
                url=session.url,
                expires_at=session.expires_at,
                now=now,
            )

    async def apply(
        self, enrolment_id: UUID, notices: list[PaymentNotice], *, now: datetime
    ) -> list[str]:
        outcomes = []
        async with self.engine.begin() as conn:
            for notice in notices:
                outcomes.append(
                    await payments.apply_payment_notice(
                        conn,
                        enrolment_id,
                        notice,
                        provider=self.provider.name,
                        policy=self.policy,
                        now=now,
                    )
                )
        return outcomes

    async def cancel_by_learner(
        self, enrolment_id: UUID, *, learner_id: UUID, now: datetime
    ) -> Enrolment:
        """Close any open checkout first, so nobody pays for a cancelled enrolment; a
        payment that completed meanwhile is kept and the cancellation refused."""
        item = await self._load(enrolment_id, learner_id)
        if item.status is Status.PENDING_PAYMENT and item.checkout_session_id:
            state = await self.provider.expire_checkout(item.checkout_session_id)
            notices = notices_from_state(state, enrolment_id)
            await self.apply(
                enrolment_id, [n for n in notices if n.signal is not Signal.EXPIRED], now=now
            )
        async with self.engine.begin() as conn:
            return await enrolments.cancel_by_learner(
                conn, enrolment_id, policy=self.policy, now=now
            )

    async def expire_hold(
        self, enrolment_id: UUID, session_id: str | None, *, now: datetime
    ) -> None:
        """A hold ran out: expire its checkout at the provider, then apply what the
        provider says (a payment that completed at the last second is kept)."""
        if session_id is None:
            notices = [PaymentNotice(Signal.EXPIRED, enrolment_reference=str(enrolment_id))]
        else:
            notices = notices_from_state(
                await self.provider.expire_checkout(session_id), enrolment_id
            )
        await self.apply(enrolment_id, notices, now=now)

    async def send_refund(self, enrolment_id: UUID, *, now: datetime) -> bool:
        """Ask the provider to refund what is due; its `charge.refunded` event completes it."""
        item = await self._load(enrolment_id, None)
        if item.payment_status is not PaymentStatus.REFUND_DUE or item.refund_requested_at:
            return False
        if item.payment_intent_id is None:
            log.error("payments.refund_without_payment_reference", enrolment_id=str(item.id))
            return False
        await self.provider.refund(
            enrolment_id=item.id,
            payment_intent_id=item.payment_intent_id,
            amount_cents=item.amount_paid_cents - item.amount_refunded_cents,
        )
        async with self.engine.begin() as conn:
            await payments.refund_sent(conn, item.id, now=now)
        return True
