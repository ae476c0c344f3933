from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from credstack.contracts.enrolment import (
    DeclarationRequired,
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentRequested,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
    PaymentFailed,
    PaymentRefunded,
    WaitlistSeatOffered,
)
from credstack.contracts.envelope import Event
from enrolment.domain import (
    Enrolment,
    NothingToRefund,
    OfferExpired,
    Offering,
    OfferingClosed,
    OfferingStatus,
    PaymentStatus,
    Status,
    TransferRefused,
    WrongStatus,
)
from enrolment.domain.states import SETTLED

T0 = datetime(2026, 11, 22, tzinfo=UTC)
HOLD = T0 + timedelta(minutes=30)


def offering(**changes: object) -> Offering:
    values: dict[str, object] = {
        "id": uuid4(),
        "micro_credential_id": uuid4(),
        "micro_credential_version": 3,
        "code": "MC-DATA-101",
        "title": "Data Cleaning",
        "starts_on": date(2026, 12, 14),
        "enrolment_opens_at": T0 - timedelta(days=1),
        "enrolment_closes_at": T0 + timedelta(days=1),
        "capacity": 2,
        "fee_cents": 49500,
        "currency": "AUD",
        "status": OfferingStatus.SCHEDULED,
    }
    values.update(changes)
    return Offering(**values)  # type: ignore[arg-type]


def request(
    target: Offering | None = None,
    *,
    seats_free: int = 1,
    declaration_ok: bool = True,
    eligible: bool = True,
    at: datetime = T0,
) -> tuple[Enrolment, list[object]]:
    enrolment, events = Enrolment.request(
        enrolment_id=uuid4(),
        learner_id=uuid4(),
        learner_name="Ada Lovelace",
        email="ada@example.org",
        offering=target or offering(),
        eligible=eligible,
        seats_free=seats_free,
        declaration_ok=declaration_ok,
        hold_until=HOLD,
        at=at,
    )
    return enrolment, list(events)


SESSION = "cs_test_1"


def pay(
    enrolment: Enrolment,
    *,
    declaration_ok: bool = True,
    amount_cents: int = 49500,
    currency: str = "aud",
    session_id: str | None = SESSION,
) -> list[Event]:
    """The provider's word that the fee was paid at the checkout this service started."""
    if enrolment.checkout_session_id is None:
        enrolment.checkout_session_id = SESSION
    return enrolment.payment_succeeded(
        amount_cents=amount_cents,
        currency=currency,
        session_id=session_id,
        declaration_ok=declaration_ok,
        at=T0,
    )


def pending() -> Enrolment:
    return request()[0]


def paid() -> Enrolment:
    enrolment = pending()
    pay(enrolment, declaration_ok=True)
    return enrolment


def types(events: list[object]) -> list[type]:
    return [type(e) for e in events]


def test_a_paid_offering_holds_a_seat_until_the_fee_is_paid_then_confirms_the_exact_version() -> (
    None
):
    enrolment, events = request()
    assert types(events) == [EnrolmentRequested]
    assert (enrolment.status, enrolment.hold_expires_at) == (Status.PENDING_PAYMENT, HOLD)
    assert enrolment.holds_seat

    confirmed = pay(enrolment, declaration_ok=True)

    assert types(confirmed) == [EnrolmentConfirmed]
    assert isinstance(confirmed[0], EnrolmentConfirmed)
    assert confirmed[0].micro_credential_version == 3
    # Contact details travel only on enrolment.contacts; the receipt gets what was paid.
    assert (confirmed[0].learner_name, confirmed[0].email) == (None, None)
    assert (confirmed[0].amount_paid_cents, confirmed[0].currency) == (49500, "AUD")
    assert (enrolment.status, enrolment.payment_status) == (Status.CONFIRMED, PaymentStatus.PAID)
    assert enrolment.hold_expires_at is None


def test_a_free_offering_confirms_without_payment() -> None:
    enrolment, events = request(offering(fee_cents=0))
    assert types(events) == [EnrolmentRequested, EnrolmentConfirmed]
    assert enrolment.payment_status is PaymentStatus.NOT_REQUIRED


def test_without_the_integrity_declaration_a_paid_enrolment_waits_visibly_then_confirms() -> None:
    enrolment = pending()
    waiting = pay(enrolment, declaration_ok=False)
    assert types(waiting) == [DeclarationRequired]
    assert enrolment.status is Status.AWAITING_DECLARATION
    assert enrolment.holds_seat

    assert types(enrolment.accept_declaration(T0)) == [EnrolmentConfirmed]
    assert enrolment.accept_declaration(T0) == []


def test_a_full_offering_puts_the_learner_on_the_waitlist() -> None:
    enrolment, events = request(seats_free=0)
    assert types(events) == [EnrolmentRequested]
    assert (enrolment.status, enrolment.waitlisted_at) == (Status.WAITLISTED, T0)
    assert not enrolment.holds_seat


def test_enrolment_outside_the_window_or_in_a_cancelled_offering_is_refused() -> None:
    with pytest.raises(OfferingClosed, match="not open"):
        request(at=T0 + timedelta(days=2))
    with pytest.raises(OfferingClosed, match="cancelled"):
        request(offering(status=OfferingStatus.CANCELLED))


def test_declared_experience_waits_for_staff_who_approve_into_a_seat_or_decline() -> None:
    approved, _ = request(eligible=False)
    declined, _ = request(eligible=False)
    assert approved.status is Status.AWAITING_APPROVAL
    assert not approved.holds_seat

    approved.decide_eligibility(
        approved=True, note="", seats_free=1, declaration_ok=True, hold_until=HOLD, at=T0
    )
    events = declined.decide_eligibility(
        approved=False,
        note="no data work",
        seats_free=1,
        declaration_ok=True,
        hold_until=HOLD,
        at=T0,
    )

    assert approved.status is Status.PENDING_PAYMENT
    assert declined.status is Status.CANCELLED
    assert isinstance(events[0], EnrolmentCancelled)
    assert events[0].reason == "not eligible: no data work"


def test_a_late_failure_never_undoes_a_payment() -> None:
    enrolment = paid()
    assert enrolment.payment_attempt_failed(reason="declined", provider="stripe", at=T0) == []
    assert enrolment.payment_failed_finally(reason="bank", provider="stripe", at=T0) == []
    assert enrolment.checkout_expired(T0) == []
    assert enrolment.payment_processing(at=T0) is None
    assert (enrolment.status, enrolment.payment_status) == (Status.CONFIRMED, PaymentStatus.PAID)


def test_a_repeated_payment_signal_confirms_once() -> None:
    enrolment = paid()
    assert pay(enrolment, declaration_ok=True) == []


@pytest.mark.parametrize("settled", sorted(SETTLED))
@pytest.mark.parametrize("status", list(Status))
def test_money_received_changes_nothing_once_the_payment_is_settled(
    settled: PaymentStatus, status: Status
) -> None:
    """What lets the webhook skip locks for `PAID` / `PROCESSING` notices on a settled
    payment (`usecases.payments._changes_nothing`): whatever the enrolment's status, and
    whatever the notice says (even another amount or session), nothing changes."""
    enrolment = paid()
    enrolment.status, enrolment.payment_status = status, settled
    before = dict(vars(enrolment))
    assert pay(enrolment, amount_cents=1, session_id="cs_other", declaration_ok=False) == []
    assert pay(enrolment) == []
    assert enrolment.payment_processing(at=T0, payment_intent_id="pi_other") is None
    assert vars(enrolment) == before


def test_a_declined_card_may_be_retried_while_the_hold_lasts() -> None:
    enrolment = pending()
    failed = enrolment.payment_attempt_failed(reason="insufficient funds", provider="stripe", at=T0)
    assert isinstance(failed[0], PaymentFailed) and failed[0].final is False
    assert (enrolment.status, enrolment.payment_error) == (
        Status.PENDING_PAYMENT,
        "insufficient funds",
    )
    assert types(pay(enrolment, declaration_ok=True)) == [EnrolmentConfirmed]


def test_a_delayed_method_keeps_the_seat_until_the_bank_settles() -> None:
    settles, fails = pending(), pending()
    for enrolment in (settles, fails):
        enrolment.payment_processing(at=T0, payment_intent_id="pi_1")
        assert (enrolment.status, enrolment.hold_expires_at) == (Status.PAYMENT_PROCESSING, None)
        assert enrolment.holds_seat
        assert enrolment.checkout_expired(T0) == [], "a completed checkout no longer expires"

    assert types(pay(settles, declaration_ok=True)) == [EnrolmentConfirmed]
    events = fails.payment_failed_finally(reason="the delayed payment failed", provider="p", at=T0)
    assert types(events) == [PaymentFailed, EnrolmentCancelled]
    assert isinstance(events[0], PaymentFailed) and events[0].final is True
    assert not fails.holds_seat


def test_an_expired_hold_cancels_and_releases_the_seat() -> None:
    enrolment = pending()
    events = enrolment.checkout_expired(T0)
    assert types(events) == [EnrolmentCancelled]
    assert enrolment.status is Status.CANCELLED and not enrolment.holds_seat
    assert enrolment.checkout_expired(T0) == []


def test_money_for_an_enrolment_no_longer_active_is_due_back() -> None:
    enrolment = pending()
    enrolment.checkout_expired(T0)
    assert pay(enrolment, declaration_ok=True) == []
    assert (enrolment.status, enrolment.payment_status) == (
        Status.CANCELLED,
        PaymentStatus.REFUND_DUE,
    )


def test_a_full_refund_cancels_and_releases_a_partial_one_does_not() -> None:
    full, partial = paid(), paid()

    events = full.refund_recorded(amount_refunded_cents=49500, provider="stripe", at=T0)
    kept = partial.refund_recorded(amount_refunded_cents=10000, provider="stripe", at=T0)

    assert types(events) == [PaymentRefunded, EnrolmentWithdrawn]
    assert (full.status, full.payment_status) == (Status.WITHDRAWN, PaymentStatus.REFUNDED)
    assert not full.holds_seat
    assert types(kept) == [PaymentRefunded]
    assert isinstance(kept[0], PaymentRefunded) and kept[0].amount_cents == 10000
    assert partial.status is Status.CONFIRMED
    assert full.refund_recorded(amount_refunded_cents=49500, provider="stripe", at=T0) == []
    more = partial.refund_recorded(amount_refunded_cents=49500, provider="stripe", at=T0)
    assert isinstance(more[0], PaymentRefunded) and more[0].amount_cents == 39500


def test_only_a_payment_can_be_refunded() -> None:
    with pytest.raises(NothingToRefund):
        pending().request_refund()
    enrolment = paid()
    enrolment.request_refund()
    assert enrolment.payment_status is PaymentStatus.REFUND_DUE


def test_a_waitlisted_learner_is_offered_a_seat_for_a_limited_time() -> None:
    enrolment, _ = request(seats_free=0)
    offer = enrolment.offer_seat(offer_expires_at=T0 + timedelta(hours=48), at=T0)
    assert isinstance(offer, WaitlistSeatOffered)
    assert enrolment.status is Status.SEAT_OFFERED and enrolment.holds_seat

    assert enrolment.offer_lapsed(T0 + timedelta(hours=47)) == []
    assert (
        enrolment.accept_seat(declaration_ok=True, hold_until=HOLD, at=T0 + timedelta(hours=1))
        == []
    )
    assert enrolment.status is Status.PENDING_PAYMENT


def test_a_seat_offer_not_taken_up_lapses_and_cannot_be_accepted_late() -> None:
    late, lapsing = request(seats_free=0)[0], request(seats_free=0)[0]
    for enrolment in (late, lapsing):
        enrolment.offer_seat(offer_expires_at=T0 + timedelta(hours=48), at=T0)

    with pytest.raises(OfferExpired):
        late.accept_seat(declaration_ok=True, hold_until=HOLD, at=T0 + timedelta(hours=48))
    assert types(lapsing.offer_lapsed(T0 + timedelta(hours=48))) == [EnrolmentCancelled]
    assert lapsing.status is Status.CANCELLED


def test_staff_withdraw_a_confirmed_enrolment_and_cancel_an_unconfirmed_one() -> None:
    assert types(paid().withdraw(reason="moved overseas", at=T0)) == [EnrolmentWithdrawn]
    assert types(pending().withdraw(reason="duplicate", at=T0)) == [EnrolmentCancelled]
    with pytest.raises(WrongStatus):
        cancelled = pending()
        cancelled.checkout_expired(T0)
        cancelled.withdraw(reason="again", at=T0)


def test_a_learner_may_leave_before_paying_but_not_while_a_payment_is_under_way() -> None:
    assert types(pending().cancel_by_learner(T0)) == [EnrolmentCancelled]
    processing = pending()
    processing.payment_processing(at=T0)
    with pytest.raises(WrongStatus):
        processing.cancel_by_learner(T0)
    with pytest.raises(WrongStatus):
        paid().cancel_by_learner(T0)


def test_a_cancelled_offering_cancels_its_enrolments_and_owes_back_what_was_paid() -> None:
    enrolment = paid()
    events = enrolment.offering_cancelled(reason="convenor ill", at=T0)
    assert types(events) == [EnrolmentWithdrawn]
    assert enrolment.payment_status is PaymentStatus.REFUND_DUE
    unpaid = pending()
    unpaid.offering_cancelled(reason="convenor ill", at=T0)
    assert unpaid.payment_status is PaymentStatus.UNPAID


def test_a_transfer_moves_a_paid_enrolment_to_another_cohort_of_the_same_micro_credential() -> None:
    enrolment = paid()
    source = enrolment.offering
    target = offering(micro_credential_id=source.micro_credential_id, micro_credential_version=4)

    event = enrolment.transfer(to=target, seats_free=1, at=T0)

    assert isinstance(event, EnrolmentTransferred)
    assert (event.from_offering_id, event.to_offering_id) == (source.id, target.id)
    assert event.micro_credential_version == 4
    assert enrolment.offering is target


@pytest.mark.parametrize(
    ("changes", "seats_free", "reason"),
    [
        ({"micro_credential_id": uuid4()}, 1, "same micro-credential"),
        ({"fee_cents": 10}, 1, "fee differs"),
        ({}, 0, "no free seat"),
        ({"status": OfferingStatus.CANCELLED}, 1, "cancelled"),
    ],
)
def test_a_transfer_is_refused_to_another_micro_credential_fee_or_a_full_offering(
    changes: dict[str, object], seats_free: int, reason: str
) -> None:
    enrolment = paid()
    target = offering(**{"micro_credential_id": enrolment.offering.micro_credential_id, **changes})
    with pytest.raises(TransferRefused, match=reason):
        enrolment.transfer(to=target, seats_free=seats_free, at=T0)
    with pytest.raises(WrongStatus):
        pending().transfer(to=target, seats_free=1, at=T0)


def test_freed_seats_go_to_the_waitlist_only_until_the_offering_starts() -> None:
    target = offering(starts_on=date(2026, 11, 23))
    assert target.offers_freed_seats(T0)
    assert not target.offers_freed_seats(T0 + timedelta(days=1))
    assert not offering(status=OfferingStatus.CANCELLED).offers_freed_seats(T0)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"amount_cents": 1}, "1 cents paid where the fee is 49500"),
        ({"currency": "usd"}, "paid in usd where the fee is in AUD"),
        ({"currency": None}, "paid in an unnamed currency where the fee is in AUD"),
        ({"session_id": "cs_forged"}, "not the one this service created"),
    ],
)
def test_a_payment_unlike_the_checkout_asked_for_is_flagged_for_staff_and_confirms_nothing(
    changes: dict[str, Any], why: str
) -> None:
    enrolment = pending()
    assert pay(enrolment, **changes) == []
    assert (enrolment.status, enrolment.payment_status) == (
        Status.PENDING_PAYMENT,
        PaymentStatus.UNPAID,
    )
    assert enrolment.payment_flag is not None and why in enrolment.payment_flag


def test_a_payment_for_a_checkout_never_started_is_flagged() -> None:
    enrolment = pending()
    events = enrolment.payment_succeeded(
        amount_cents=49500, currency="AUD", session_id=None, declaration_ok=True, at=T0
    )
    assert events == []
    assert enrolment.payment_flag == "a payment for a checkout this service never started"
    assert enrolment.status is Status.PENDING_PAYMENT
