from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from enrolment.domain import Enrolment, EnrolmentError, Offering, Status

T0 = datetime(2026, 11, 22, tzinfo=UTC)


def offering(**changes: object) -> Offering:
    values: dict[str, object] = {
        "id": uuid4(),
        "micro_credential_id": uuid4(),
        "micro_credential_version": 3,
        "enrolment_opens_at": T0 - timedelta(days=1),
        "enrolment_closes_at": T0 + timedelta(days=1),
        "capacity": 2,
        "fee_cents": 100,
        "status": "scheduled",
    }
    values.update(changes)
    return Offering(**values)  # type: ignore[arg-type]


def request(target: Offering, seats_taken: int = 0, at: datetime = T0) -> Enrolment:
    enrolment, _ = Enrolment.request(
        enrolment_id=uuid4(),
        learner_id=uuid4(),
        learner_name="Ada",
        email="ada@example.org",
        offering=target,
        seats_taken=seats_taken,
        at=at,
    )
    return enrolment


def test_an_enrolment_waits_for_payment_then_confirms_with_the_exact_version() -> None:
    enrolment = request(offering())
    assert enrolment.status is Status.PENDING_PAYMENT
    confirmed = enrolment.confirm(T0)
    assert confirmed is not None
    assert confirmed.micro_credential_version == 3
    assert enrolment.confirm(T0) is None


def test_a_full_offering_refuses_enrolment() -> None:
    with pytest.raises(EnrolmentError, match="full"):
        request(offering(capacity=2), seats_taken=2)


def test_enrolment_outside_the_window_is_refused() -> None:
    with pytest.raises(EnrolmentError, match="not open"):
        request(offering(), at=T0 + timedelta(days=2))


def test_a_free_offering_needs_no_payment() -> None:
    assert request(offering(fee_cents=0)).payment_due is False
