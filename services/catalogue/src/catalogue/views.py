"""Request and response models of the catalogue's HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from catalogue.domain import (
    DEFAULT_PASS_MARK,
    Category,
    DeliveryMode,
    MicroCredential,
    OfferingPlan,
    OfferingStatus,
    Stack,
    StackMember,
    Status,
    language_name,
)
from catalogue.offering_views import SessionPlan, SessionView, sessions_of
from catalogue.search import Listing
from credstack.contracts.catalogue import Alignment, CreditPathway, Endorsement, LearningOutcome
from credstack.numbers import Quantity, json_number
from credstack.validation import LanguageTag

Code = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")

FEE_POLICY = {
    "currency": "AUD",
    "paid_up_front": True,
    "instalments": False,
    "help_or_hecs_eligible": False,
    "cross_institutional_enrolment": False,
}


class MicroCredentialFields(BaseModel):
    """Everything a micro-credential has; all but a few have sensible defaults."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=1000)
    description: str = Field(min_length=1)
    learning_outcomes: list[LearningOutcome] = Field(
        description="Each must be demonstrated in assessment"
    )
    alignments: list[Alignment] = Field(
        default=[], description="Skills and capabilities aligned to external frameworks"
    )
    endorsements: list[Endorsement] = Field(default=[], description="Industry endorsements")
    category: Category = "professional-development"
    field_of_study: str = ""
    level: Literal["graduate"] = "graduate"
    credit_points: Quantity = Field(gt=0, description="e.g. 3.125")
    notional_hours: Quantity = Field(gt=0, description="Guideline: 20-23 hours per credit point")
    contact_hours: Quantity | None = Field(default=None, ge=0)
    cpd_hours: Quantity | None = Field(
        default=None, ge=0, description="CPD points; defaults to 1 per notional hour"
    )
    delivery_modes: list[DeliveryMode] = Field(default=["on-campus"], min_length=1)
    online_delivery_approval: str | None = Field(
        default=None,
        description="Reference of the recorded approval for synchronous online delivery",
    )
    language: LanguageTag = Field(default="en", description="Language of instruction (BCP 47)")
    is_language_micro_credential: bool = False
    language_level: str | None = None
    assessment_description: str = ""
    assessment_word_equivalent: int | None = Field(default=None, ge=0)
    pass_mark: Quantity = Field(default=DEFAULT_PASS_MARK, gt=0, le=100)
    fee_cents: int = Field(default=0, ge=0, description="Fee in AUD cents, paid in full up front")
    eligibility: str = ""
    prerequisite_codes: list[str] = Field(
        default=[], description="Codes of micro-credentials a learner must already hold"
    )
    expiry_months: int | None = Field(
        default=None, ge=1, description="None: the credential does not expire"
    )
    credit_pathways: list[PathwayOut] = []
    strategic_plan_alignment: str = ""
    convenor: str = ""
    teaching_staff: list[str] = []
    co_taught_courses: list[str] = Field(
        default=[], description="Must not be 1000-3000 level undergraduate"
    )


class MicroCredentialDraft(MicroCredentialFields):
    code: str = Code


class DraftChanges(BaseModel):
    """A partial edit of the draft version: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = None
    description: str | None = Field(default=None, min_length=1)
    learning_outcomes: list[LearningOutcome] | None = None
    alignments: list[Alignment] | None = None
    endorsements: list[Endorsement] | None = None
    category: Category | None = None
    field_of_study: str | None = None
    credit_points: Quantity | None = Field(default=None, gt=0)
    notional_hours: Quantity | None = Field(default=None, gt=0)
    contact_hours: Quantity | None = Field(default=None, ge=0)
    cpd_hours: Quantity | None = Field(default=None, ge=0)
    delivery_modes: list[DeliveryMode] | None = None
    online_delivery_approval: str | None = None
    language: LanguageTag | None = None
    is_language_micro_credential: bool | None = None
    language_level: str | None = None
    assessment_description: str | None = None
    assessment_word_equivalent: int | None = Field(default=None, ge=0)
    pass_mark: Quantity | None = Field(default=None, gt=0, le=100)
    fee_cents: int | None = Field(default=None, ge=0)
    eligibility: str | None = None
    prerequisite_codes: list[str] | None = None
    expiry_months: int | None = Field(default=None, ge=1)
    credit_pathways: list[CreditPathway] | None = None
    strategic_plan_alignment: str | None = None
    convenor: str | None = None
    teaching_staff: list[str] | None = None
    co_taught_courses: list[str] | None = None

    @model_validator(mode="after")
    def _only_optional_fields_may_be_cleared(self) -> DraftChanges:
        optional = {
            name
            for name, spec in MicroCredentialFields.model_fields.items()
            if not spec.is_required() and spec.default is None
        }
        if cleared := sorted(
            n for n in self.model_fields_set if getattr(self, n) is None and n not in optional
        ):
            raise ValueError(f"these fields cannot be null: {', '.join(cleared)}")
        return self


def _pathway_json(pathway: CreditPathway) -> dict[str, Any]:
    return {
        **pathway.model_dump(mode="json"),
        "credit_points": None
        if pathway.credit_points is None
        else json_number(pathway.credit_points),
    }


PathwayOut = Annotated[
    CreditPathway, PlainSerializer(_pathway_json, return_type=dict[str, Any], when_used="json")
]
"""A credit pathway whose credit points are a JSON number (6.25), not a string."""


class LanguageNotice(BaseModel):
    language: str
    language_name: str = Field(description="The language's English name")
    notice: str


def language_notice(language: str) -> LanguageNotice | None:
    """Shown prominently wherever a micro-credential not taught in English is described."""
    if language.lower().split("-")[0] == "en":
        return None
    name = language_name(language)
    return LanguageNotice(
        language=language,
        language_name=name,
        notice=f"Taught in a language other than English: {name} ({language})",
    )


class MicroCredentialView(MicroCredentialFields):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    version: int
    code: str
    status: Status
    cpd_hours: Quantity | None
    prerequisites: list[UUID]
    language_name: str = Field(description="The language of instruction's English name")
    language_of_instruction: LanguageNotice | None
    fee_policy: dict[str, Any] = FEE_POLICY
    review_due_on: date | None
    published_at: datetime | None
    proposed_by: str
    approved_by: str | None
    warnings: list[str]
    stacks: list[str] = []

    @classmethod
    def of(cls, item: MicroCredential, *, prerequisite_codes: list[str], stacks: list[str]) -> Self:
        fields = {
            name: getattr(item, name)
            for name in MicroCredentialFields.model_fields
            if hasattr(item, name) and name != "cpd_hours"
        }
        return cls(
            **fields,
            prerequisite_codes=prerequisite_codes,
            id=item.id,
            version=item.version,
            code=item.code,
            status=item.status,
            cpd_hours=item.cpd_points,
            prerequisites=item.prerequisites,
            language_name=language_name(item.language),
            language_of_instruction=language_notice(item.language),
            review_due_on=item.review_due_on,
            published_at=item.published_at,
            proposed_by=item.proposed_by,
            approved_by=item.approved_by,
            warnings=item.warnings(),
            stacks=stacks,
        )


class UpcomingOffering(BaseModel):
    """A scheduled offering that has not started, with its micro-credential's code."""

    id: UUID
    code: str
    title: str
    version: int
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    delivery_mode: DeliveryMode
    location: str
    time_zone: str
    fee_cents: int
    convenor: str
    open_for_enrolment: bool
    seats_left: int = Field(
        description="Capacity less the confirmed enrolments the enrolment service announced "
        "(never below 0); seats held for a payment in progress are not counted, so "
        "enrolment's GET /offerings/{id}/availability is the word at checkout"
    )
    sessions: list[SessionView] = Field(description="When and where it meets, in time order")


class PublicMicroCredential(MicroCredentialView):
    """The website's view: no internal workflow fields."""

    model_config = ConfigDict(extra="ignore")

    upcoming_offerings: list[UpcomingOffering] = []


class OfferingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int = Field(ge=1, le=10_000)
    delivery_mode: DeliveryMode
    location: str = ""
    time_zone: str = "Australia/Sydney"
    fee_cents: int | None = Field(
        default=None, ge=0, description="Defaults to the micro-credential's fee"
    )
    convenor: str | None = None
    lms_course_ref: str | None = None
    contact_sessions: int | None = Field(default=None, ge=1)
    sessions: list[SessionPlan] = Field(
        default=[], description="Its class meetings; as many as contact_sessions if that is set"
    )

    def plan(self) -> OfferingPlan:
        return OfferingPlan(
            **self.model_dump(exclude={"sessions"}), sessions=sessions_of(self.sessions)
        )


class Reschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int = Field(ge=1, le=10_000)
    sessions: list[SessionPlan] | None = Field(
        default=None, description="The sessions from now on; omit to keep them (they must fit)"
    )


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1)


class Why(BaseModel):
    """Why staff took an action, for the audit log (optional)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str | None = Field(default=None, max_length=2000)


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewed_on: date


class StackDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Code
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1)
    kind: Literal["series", "suite"]
    member_codes: list[str] = Field(min_length=2, description="Member micro-credentials, in order")
    required_count: int | None = Field(default=None, ge=1, description="None: all members")
    within_months: int | None = Field(default=None, ge=1)
    learning_outcomes: list[LearningOutcome] = []
    field_of_study: str = ""
    language: str = "en"
    credit_pathways: list[CreditPathway] = []


class OfferingCreated(BaseModel):
    id: UUID
    code: str


class OfferingState(BaseModel):
    id: UUID
    status: OfferingStatus


class StackMemberView(BaseModel):
    id: UUID
    code: str
    title: str
    credit_points: Quantity = Field(description="A JSON number, e.g. 6.25")
    status: Status

    @classmethod
    def of(cls, member: StackMember) -> StackMemberView:
        return cls(
            id=member.id,
            code=member.code,
            title=member.title,
            credit_points=member.credit_points,
            status=member.status,
        )


class StackView(BaseModel):
    id: UUID
    version: int
    code: str
    status: Status
    title: str
    description: str
    kind: Literal["series", "suite"]
    members: list[StackMemberView]
    required_count: int | None
    within_months: int | None
    credit_points: Quantity
    learning_outcomes: list[LearningOutcome]
    field_of_study: str
    language: str
    credit_pathways: list[PathwayOut]
    published_at: datetime | None

    @classmethod
    def of(cls, item: Stack) -> StackView:
        return cls(
            id=item.id,
            version=item.version,
            code=item.code,
            status=item.status,
            title=item.title,
            description=item.description,
            kind=item.kind,
            members=[StackMemberView.of(m) for m in item.members],
            required_count=item.required_count,
            within_months=item.within_months,
            credit_points=item.credit_points,
            learning_outcomes=item.learning_outcomes,
            field_of_study=item.field_of_study,
            language=item.language,
            credit_pathways=item.credit_pathways,
            published_at=item.published_at,
        )


class SearchHit(BaseModel):
    """One published micro-credential in a search's results."""

    id: UUID
    version: int
    code: str
    title: str
    summary: str
    category: Category
    field_of_study: str
    credit_points: Quantity
    notional_hours: Quantity
    cpd_hours: Quantity
    language: str
    language_name: str = Field(description="The language of instruction's English name")
    language_of_instruction: LanguageNotice | None
    delivery_modes: list[DeliveryMode]
    fee_cents: int
    next_start: date | None
    open_for_enrolment: bool
    stacks: list[str]

    @classmethod
    def of(cls, listing: Listing) -> SearchHit:
        return cls.model_validate(
            {
                **vars(listing),  # shallow: dataclasses.asdict deep-copies every field
                "language_name": language_name(listing.language),
                "language_of_instruction": language_notice(listing.language),
            }
        )
