"""A learner's erasure request: when it may be done, and what each service erases and keeps.
No I/O.

Erasure removes personal data everywhere it is not needed to keep issued credentials
verifiable and the records the university must keep. It waits while an enrolment is still
in progress (a seat held or offered, a payment or review pending, money owed back): the
learner ends those first, or staff do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from credstack.privacy import Erasure, Kept
from credstack.refusals import Reason
from enrolment.domain.states import ACTIVE, EnrolmentError, PaymentStatus, Status

FINANCIAL_RETENTION_YEARS = 7
"""How long payment records are kept (tax and accounting law)."""

IN_PROGRESS = ACTIVE - {Status.CONFIRMED}
"""Enrolments that still wait on the learner, staff or a payment."""

PAYMENT_PERSONAL_FIELDS = frozenset(
    {
        "customer_email",
        "customer_details",
        "billing_details",
        "receipt_email",
        "email",
        "name",
        "phone",
        "address",
        "shipping",
        "shipping_details",
    }
)
"""Members of a payment provider's webhook payload that name or reach the payer."""


class ErasureWaits(EnrolmentError):
    """An enrolment is still in progress: erasure would leave it half done."""

    code = "erasure-waits-for-enrolments"
    reason = Reason.CONFLICT


@dataclass(frozen=True)
class EnrolmentStanding:
    id: UUID
    status: Status
    payment_status: PaymentStatus


def check_erasable(enrolments: Iterable[EnrolmentStanding]) -> None:
    """Refuse erasure while an enrolment is in progress or money is owed back."""
    waiting = sorted(
        str(e.id)
        for e in enrolments
        if e.status in IN_PROGRESS or e.payment_status is PaymentStatus.REFUND_DUE
    )
    if waiting:
        raise ErasureWaits(
            "Some of your enrolments are still in progress (a seat held or offered, a "
            "payment, review or refund pending): cancel them, or wait until they are "
            "settled, then ask again.",
            enrolments=waiting,
        )


ENROLMENT = Erasure(
    service="enrolment",
    erases=[
        "your profile: email address, name on credentials, university ID, sign-in subject",
        "the name, email and sign-in subject copied onto each enrolment, and your statement "
        "of previous experience",
        "your email and any name, address or phone number in payment records",
    ],
    keeps=[
        Kept(
            what="each enrolment's offering, dates, status, fee, amounts paid and refunded, "
            "under your learner id only",
            why=f"financial records are kept for {FINANCIAL_RETENTION_YEARS} years by law, "
            "and your results and credentials refer to the enrolment",
        ),
        Kept(
            what="this erasure record (your learner id, when, and this answer)",
            why="to show that your request was carried out and to answer a repeated one",
        ),
    ],
)

PLATFORM: tuple[Erasure, ...] = (
    ENROLMENT,
    Erasure(
        service="issuer",
        erases=[
            "your contact details (name, email) kept to name new credentials",
            "your email on each issued credential's record",
            "credential offers to wallets you had not taken",
        ],
        keeps=[
            Kept(
                what="issued credentials (signed documents you hold) with your name as "
                "printed on them",
                why="they must stay verifiable for whoever you showed them to; they "
                "identify you only by a salted hash of your email, never the address",
            ),
            Kept(
                what="credentials' status (revoked, suspended) and the wallet copies already taken",
                why="verifiers check them",
            ),
        ],
    ),
    Erasure(
        service="notifier",
        erases=[
            "your contact details and message preferences",
            "interest registrations of your address",
            "unsent messages; the address, subject and content of sent ones",
        ],
        keeps=[
            Kept(
                what="that a message of a kind was sent, and when",
                why="to show what the platform told you, without what it said",
            )
        ],
    ),
    Erasure(
        service="assessment",
        erases=[
            "your identifiers in the learning management systems (roster links)",
            "the payloads your LMS sent with your grades (they may name you)",
        ],
        keeps=[
            Kept(
                what="grades, results, attendance, moderation and integrity decisions, "
                "under your enrolment ids",
                why="academic records the university keeps; your credentials rest on them",
            )
        ],
    ),
    Erasure(
        service="dashboard",
        erases=["names and emails in the stored events about you (older events carried them)"],
        keeps=[
            Kept(
                what="the platform's event log under your learner id",
                why="the ordered record of what happened, which staff and audits rely on",
            )
        ],
    ),
)
"""What erasure does in every service: the answer a learner is given."""
