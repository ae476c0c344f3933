"""What the API shows of an enrolment and its payment."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from enrolment.domain import Enrolment, PaymentStatus, Status


def next_step(item: Enrolment) -> str | None:
    """What the enrolment waits for, in words a learner or staff member can act on."""
    steps = {
        Status.AWAITING_APPROVAL: "staff review of the declared prior experience",
        Status.WAITLISTED: "a seat to free up (waitlist)",
        Status.SEAT_OFFERED: (
            f"accept the seat offered (POST /enrolments/{item.id}/accept-seat) before "
            "offer_expires_at"
        ),
        Status.PENDING_PAYMENT: (
            f"pay the fee (POST /enrolments/{item.id}/checkout) before hold_expires_at"
        ),
        Status.PAYMENT_PROCESSING: "the bank to settle the payment",
        Status.AWAITING_DECLARATION: (
            "accept the current academic-integrity declaration "
            "(POST /learners/me/integrity-declaration)"
        ),
    }
    return steps.get(item.status)


class PaymentView(BaseModel):
    status: PaymentStatus
    amount_cents: int
    currency: str
    amount_paid_cents: int
    amount_refunded_cents: int
    checkout_url: str | None
    last_error: str | None
    flagged: str | None = Field(
        description="Why a payment signal was left for staff instead of confirming "
        "(an amount, currency or checkout session other than the one asked for)"
    )
    refund_requested_at: datetime | None


class EnrolmentView(BaseModel):
    id: UUID
    learner_id: UUID
    learner_name: str
    email: str
    offering_id: UUID
    offering_code: str
    offering_title: str
    micro_credential_id: UUID
    micro_credential_version: int
    status: Status
    next_step: str | None
    fee_cents: int
    currency: str
    payment: PaymentView
    requested_at: datetime
    hold_expires_at: datetime | None
    offer_expires_at: datetime | None
    waitlist_position: int | None
    confirmed_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None

    @classmethod
    def of(cls, item: Enrolment, *, waitlist_position: int | None = None) -> EnrolmentView:
        offering = item.offering
        return cls(
            id=item.id,
            learner_id=item.learner_id,
            learner_name=item.learner_name,
            email=item.email,
            offering_id=offering.id,
            offering_code=offering.code,
            offering_title=offering.title,
            micro_credential_id=offering.micro_credential_id,
            micro_credential_version=offering.micro_credential_version,
            status=item.status,
            next_step=next_step(item),
            fee_cents=item.fee_cents,
            currency=item.currency,
            payment=PaymentView(
                status=item.payment_status,
                amount_cents=item.fee_cents,
                currency=item.currency,
                amount_paid_cents=item.amount_paid_cents,
                amount_refunded_cents=item.amount_refunded_cents,
                checkout_url=item.checkout_url if item.status is Status.PENDING_PAYMENT else None,
                last_error=item.payment_error,
                flagged=item.payment_flag,
                refund_requested_at=item.refund_requested_at,
            ),
            requested_at=item.requested_at,
            hold_expires_at=item.hold_expires_at,
            offer_expires_at=item.offer_expires_at,
            waitlist_position=waitlist_position,
            confirmed_at=item.confirmed_at,
            ended_at=item.ended_at,
            end_reason=item.end_reason,
        )
