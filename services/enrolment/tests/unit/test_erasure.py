from uuid import uuid4

import pytest

from enrolment.domain import PaymentStatus, Status
from enrolment.domain.erasure import PLATFORM, EnrolmentStanding, ErasureWaits, check_erasable


def standing(status: Status, payment: PaymentStatus = PaymentStatus.PAID) -> EnrolmentStanding:
    return EnrolmentStanding(uuid4(), status, payment)


@pytest.mark.parametrize("status", [Status.CONFIRMED, Status.CANCELLED, Status.WITHDRAWN])
def test_settled_enrolments_do_not_hold_erasure_back(status: Status) -> None:
    check_erasable([standing(status), standing(Status.CANCELLED, PaymentStatus.REFUNDED)])


@pytest.mark.parametrize(
    "status",
    [
        Status.AWAITING_APPROVAL,
        Status.WAITLISTED,
        Status.SEAT_OFFERED,
        Status.PENDING_PAYMENT,
        Status.PAYMENT_PROCESSING,
        Status.AWAITING_DECLARATION,
    ],
)
def test_an_enrolment_in_progress_holds_erasure_back_and_is_named(status: Status) -> None:
    waiting = standing(status)
    with pytest.raises(ErasureWaits) as refused:
        check_erasable([standing(Status.CONFIRMED), waiting])
    assert refused.value.facts["enrolments"] == [str(waiting.id)]


def test_money_owed_back_holds_erasure_back() -> None:
    with pytest.raises(ErasureWaits):
        check_erasable([standing(Status.CANCELLED, PaymentStatus.REFUND_DUE)])


def test_the_answer_says_what_every_service_erases_and_keeps_with_a_reason() -> None:
    assert [e.service for e in PLATFORM] == [
        "enrolment",
        "issuer",
        "notifier",
        "assessment",
        "dashboard",
    ]
    assert all(e.erases and all(k.what and k.why for k in e.keeps) for e in PLATFORM)
