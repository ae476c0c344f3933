"""Events the enrolment service publishes on `enrolment.events`, keyed by enrolment, and,
on `enrolment.contacts`, learners' contact details keyed by learner.

Contact details (email, name, language) travel only on `enrolment.contacts`; the other
events carry learner ids. `EnrolmentConfirmed.learner_name`/`email` and
`WaitlistSeatOffered.email` are kept as optional fields for consumers of v1 and are no
longer filled.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from credstack.contracts.envelope import Event


class _EnrolmentEvent(Event):
    producer: ClassVar[str] = "enrolment"

    enrolment_id: UUID

    def key(self) -> str:
        return str(self.enrolment_id)


class EnrolmentRequested(_EnrolmentEvent):
    learner_id: UUID
    offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    requested_at: datetime


class EnrolmentConfirmed(_EnrolmentEvent):
    """The fee is paid (or nothing was due) and the learner is eligible: others may act."""

    learner_id: UUID
    learner_name: str | None = Field(
        default=None, description="Deprecated: no longer filled; see LearnerContactChanged"
    )
    email: str | None = Field(
        default=None, description="Deprecated: no longer filled; see LearnerContactChanged"
    )
    learner_did: str | None = None
    offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    confirmed_at: datetime
    amount_paid_cents: int | None = Field(
        default=None, description="What the learner paid for this enrolment (None: free)"
    )
    currency: str | None = None


class EnrolmentCancelled(_EnrolmentEvent):
    """Cancelled before it started: payment expired or failed, refunded, offering cancelled."""

    learner_id: UUID | None = None
    offering_id: UUID | None = None
    reason: str
    cancelled_at: datetime
    cause: str | None = Field(
        default=None,
        description=(
            "Why, as a stable code: offer_lapsed, payment_expired, payment_failed, "
            "offering_cancelled, by_learner, not_eligible, by_staff (None: not given)"
        ),
    )


class EnrolmentWithdrawn(_EnrolmentEvent):
    learner_id: UUID
    offering_id: UUID
    reason: str
    withdrawn_at: datetime


class EnrolmentTransferred(_EnrolmentEvent):
    learner_id: UUID
    from_offering_id: UUID
    to_offering_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    transferred_at: datetime


class PaymentFailed(_EnrolmentEvent):
    """A payment attempt failed. Not `final`: a declined card, the learner may try again
    while the seat is held. `final`: a delayed payment failed and the enrolment is cancelled.
    """

    provider: str
    reason: str
    final: bool = False
    failed_at: datetime


class PaymentRefunded(_EnrolmentEvent):
    provider: str
    amount_cents: int
    refunded_at: datetime


class WaitlistSeatOffered(_EnrolmentEvent):
    learner_id: UUID
    offering_id: UUID
    email: str | None = Field(
        default=None, description="Deprecated: no longer filled; see LearnerContactChanged"
    )
    offer_expires_at: datetime
    offered_at: datetime


class DeclarationRequired(_EnrolmentEvent):
    """Paid (or free) and eligible: the enrolment waits for the integrity declaration."""

    learner_id: UUID
    offering_id: UUID
    required_at: datetime


class _ContactEvent(Event):
    """On `enrolment.contacts` only, keyed by learner."""

    producer: ClassVar[str] = "enrolment"
    contact_data: ClassVar[bool] = True

    learner_id: UUID

    def key(self) -> str:
        return str(self.learner_id)


class LearnerContactChanged(_ContactEvent):
    """A learner's contact details as they now stand (the whole set, not a change)."""

    email: str
    name: str = Field(description="The name on their credentials")
    language: str | None = Field(default=None, description="BCP 47 preferred language")
    changed_at: datetime


class LearnerErased(_ContactEvent):
    """The learner's personal data is erased: consumers delete their contact details."""

    erased_at: datetime


class LearnerDataErased(Event):
    """The learner asked for erasure (on `enrolment.events`, keyed by learner, carrying only
    their id): services that hold personal data about them by learner id and do not read
    the contact topic (assessment, the dashboard) erase it. Published in the transaction
    that also publishes `LearnerErased` on the contact topic."""

    producer: ClassVar[str] = "enrolment"

    learner_id: UUID
    erased_at: datetime

    def key(self) -> str:
        return str(self.learner_id)


class IntegrityDeclarationAccepted(Event):
    """A learner accepted the academic-integrity declaration (version `version`), keyed by
    learner: it covers their enrolments, those already made and those to come."""

    producer: ClassVar[str] = "enrolment"

    learner_id: UUID
    version: int
    accepted_at: datetime
    confirmed_enrolment_ids: list[UUID] = []

    def key(self) -> str:
        return str(self.learner_id)
