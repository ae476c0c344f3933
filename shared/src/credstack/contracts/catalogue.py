"""Events the catalogue publishes on `catalogue.events`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from credstack.contracts.envelope import Event


class _CatalogueEvent(Event):
    producer: ClassVar[str] = "catalogue"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class LearningOutcome(_Part):
    id: str
    description: str


class Alignment(_Part):
    """A skill or capability aligned to an external framework (ESCO, SFIA, ...)."""

    name: str
    url: str
    code: str | None = None
    framework: str | None = None


class Endorsement(_Part):
    """An industry body's endorsement of the micro-credential."""

    name: str
    url: str | None = None
    statement: str | None = None


class CreditPathway(_Part):
    """Credit this micro-credential (or stack) may give towards an award program."""

    program: str
    credit_points: Decimal | None = None
    url: str | None = None


class MicroCredentialPublished(_CatalogueEvent):
    """The full snapshot of one published version: it never changes afterwards.

    Offerings and credentials point to this exact version. A stack is published with
    `StackPublished`; its own achievement is described by the same fields there.
    """

    micro_credential_id: UUID
    version: int = Field(ge=1)
    code: str
    title: str
    summary: str = ""
    description: str
    learning_outcomes: list[LearningOutcome]
    alignments: list[Alignment] = []
    endorsements: list[Endorsement] = []
    category: str = "professional-development"
    field_of_study: str = ""
    level: str = "graduate"
    credit_points: Decimal = Field(ge=0)
    notional_hours: Decimal = Field(ge=0)
    contact_hours: Decimal | None = None
    cpd_hours: Decimal = Field(ge=0)
    delivery_modes: list[str] = []
    language: str = Field(default="en", description="BCP 47 language of instruction")
    is_language_micro_credential: bool = False
    language_level: str | None = Field(
        default=None, description="For a language micro-credential: the level it teaches"
    )
    assessment_description: str = ""
    assessment_word_equivalent: int | None = None
    pass_mark: Decimal = Field(default=Decimal(70), ge=0, le=100)
    fee_cents: int = Field(default=0, ge=0)
    currency: str = "AUD"
    eligibility: str = ""
    prerequisites: list[UUID] = Field(
        default=[], description="Micro-credentials (ids) a learner must already hold"
    )
    expiry_months: int | None = Field(
        default=None, description="Credential validity; None = no expiry"
    )
    credit_pathways: list[CreditPathway] = []
    convenor: str = ""
    stacks: list[UUID] = []
    published_at: datetime

    def key(self) -> str:
        return str(self.micro_credential_id)


class MicroCredentialRevised(_CatalogueEvent):
    """A new version was published; the previous one takes no new offerings."""

    micro_credential_id: UUID
    previous_version: int
    version: int
    revised_at: datetime

    def key(self) -> str:
        return str(self.micro_credential_id)


class MicroCredentialDisestablished(_CatalogueEvent):
    """No new offerings; credentials already earned stay valid."""

    micro_credential_id: UUID
    disestablished_at: datetime

    def key(self) -> str:
        return str(self.micro_credential_id)


class StackPublished(_CatalogueEvent):
    """A stack: itself a micro-credential (its own achievement) made of members.

    Complete when `required_count` of `members` are held (all of them when None),
    and, if `within_months` is set, all earned within that many months.
    """

    stack_id: UUID
    version: int = Field(ge=1)
    code: str
    title: str
    description: str
    kind: Literal["series", "suite"]
    members: list[UUID] = Field(min_length=2, description="Member micro-credential ids, in order")
    required_count: int | None = None
    within_months: int | None = None
    credit_points: Decimal = Field(ge=0, description="Sum of the members' credit points")
    learning_outcomes: list[LearningOutcome] = []
    field_of_study: str = ""
    language: str = "en"
    credit_pathways: list[CreditPathway] = []
    published_at: datetime

    def key(self) -> str:
        return str(self.stack_id)


class _OfferingEvent(_CatalogueEvent):
    offering_id: UUID

    def key(self) -> str:
        return str(self.offering_id)


class OfferingScheduled(_OfferingEvent):
    """A scheduled cohort of one exact micro-credential version."""

    micro_credential_id: UUID
    micro_credential_version: int
    code: str
    title: str
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int = Field(ge=1)
    delivery_mode: str
    location: str = ""
    fee_cents: int = Field(ge=0)
    currency: str = "AUD"
    time_zone: str = "Australia/Sydney"
    convenor: str = ""
    lms_course_ref: str | None = None
    contact_sessions: int | None = None
    language: str = "en"
    is_language_micro_credential: bool = False
    language_level: str | None = None
    prerequisites: list[UUID] = []


class OfferingRescheduled(_OfferingEvent):
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int = Field(ge=1)
    rescheduled_at: datetime


class OfferingCancelled(_OfferingEvent):
    reason: str
    cancelled_at: datetime


class EnrolmentOpened(_OfferingEvent):
    """An offering opened for enrolment: the notifier tells those whose interest it holds
    (double opt-in) and publishes how many (`notifier.EnrolmentOpeningAnnounced`)."""

    micro_credential_id: UUID
    code: str
    title: str
    enrolment_closes_at: datetime
    interested_emails: list[str] = Field(
        default=[],
        description=(
            "Deprecated: always empty (no address goes on a broad topic); interest is the "
            "notifier's, see EnrolmentOpeningAnnounced"
        ),
    )
    opened_at: datetime
