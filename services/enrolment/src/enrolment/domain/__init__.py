"""Enrolment's rules, with no I/O: the enrolment aggregate (`enrolment`), the offering it
is in (`offering`), who may enrol in what (`eligibility`), and the states (`states`)."""

from enrolment.domain.enrolment import (
    Enrolment,
    NothingToRefund,
    OfferExpired,
    TransferRefused,
    WrongStatus,
)
from enrolment.domain.offering import Offering, OfferingClosed
from enrolment.domain.states import (
    ACTIVE,
    SEAT_HOLDING,
    EnrolmentError,
    OfferingStatus,
    PaymentStatus,
    Standing,
    Status,
)

__all__ = [
    "ACTIVE",
    "SEAT_HOLDING",
    "Enrolment",
    "EnrolmentError",
    "NothingToRefund",
    "OfferExpired",
    "Offering",
    "OfferingClosed",
    "OfferingStatus",
    "PaymentStatus",
    "Standing",
    "Status",
    "TransferRefused",
    "WrongStatus",
]
