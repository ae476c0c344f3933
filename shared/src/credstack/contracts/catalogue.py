"""Events the catalogue publishes on `catalogue.events`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from credstack.contracts.envelope import Event


class _CatalogueEvent(Event):
    producer: ClassVar[str] = "catalogue"


class LearningOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    description: str


class Alignment(BaseModel):
    """A skill or capability aligned to an external framework (ESCO, SFIA, ...)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    name: str
    url: str
    code: str | None = None
    framework: str | None = None


class MicroCredentialPublished(_CatalogueEvent):
    """The full snapshot of one published version: it never changes afterwards."""

    micro_credential_id: UUID
    version: int = Field(ge=1)
    code: str
    title: str
    summary: str = ""
    description: str
    learning_outcomes: list[LearningOutcome]
    assessment_description: str = ""
    pass_mark: Decimal = Field(default=Decimal(70), ge=0, le=100)
    credit_points: Decimal = Field(ge=0)
    notional_hours: Decimal = Field(ge=0)
    cpd_hours: Decimal = Field(ge=0)
    field_of_study: str = ""
    level: str = "graduate"
    language: str = "en"
    is_language_micro_credential: bool = False
    expiry_months: int | None = None
    alignments: list[Alignment] = []
    prerequisites: list[str] = []
    fee_cents: int = Field(default=0, ge=0)
    currency: str = "AUD"
    stacks: list[UUID] = []
    published_at: datetime

    def key(self) -> str:
        return str(self.micro_credential_id)


class OfferingScheduled(_CatalogueEvent):
    """A scheduled cohort of one exact micro-credential version, open for enrolment."""

    offering_id: UUID
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
    fee_cents: int = Field(ge=0)
    currency: str = "AUD"
    time_zone: str = "Australia/Sydney"
    lms_course_ref: str | None = None

    def key(self) -> str:
        return str(self.offering_id)
