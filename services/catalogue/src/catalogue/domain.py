"""Micro-credentials and offerings: the lifecycle and the policy rules. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from credstack.contracts.catalogue import (
    Alignment,
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)

DEFAULT_PASS_MARK = Decimal(70)


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    DISESTABLISHED = "disestablished"


class CatalogueError(Exception):
    """A request the catalogue's rules refuse."""


class WrongStatus(CatalogueError):
    def __init__(self, action: str, status: Status) -> None:
        super().__init__(f"Cannot {action} a micro-credential that is {status.value}.")


class SelfApproval(CatalogueError):
    def __init__(self) -> None:
        super().__init__("An approver cannot approve a micro-credential they proposed.")


class PolicyBreach(CatalogueError):
    def __init__(self, breaches: list[str]) -> None:
        super().__init__("; ".join(breaches))
        self.breaches = breaches


@dataclass
class MicroCredential:
    id: UUID
    version: int
    code: str
    title: str
    description: str
    learning_outcomes: list[LearningOutcome]
    credit_points: Decimal
    notional_hours: Decimal
    proposed_by: str
    summary: str = ""
    assessment_description: str = ""
    pass_mark: Decimal = DEFAULT_PASS_MARK
    cpd_hours: Decimal | None = None
    field_of_study: str = ""
    language: str = "en"
    expiry_months: int | None = None
    fee_cents: int = 0
    alignments: list[Alignment] = field(default_factory=list)
    status: Status = Status.DRAFT
    approved_by: str | None = None
    published_at: datetime | None = None

    @property
    def cpd_points(self) -> Decimal:
        """One CPD point per notional hour unless set explicitly."""
        return self.cpd_hours if self.cpd_hours is not None else self.notional_hours

    def policy_breaches(self) -> list[str]:
        breaches = []
        if not self.learning_outcomes:
            breaches.append("learning-outcomes: at least one learning outcome is required")
        if not Decimal(0) < self.pass_mark <= Decimal(100):
            breaches.append("pass-mark: must be above 0 and at most 100 percent")
        if self.credit_points <= 0:
            breaches.append("credit-points: a micro-credential carries credit points")
        return breaches

    def submit(self) -> None:
        if self.status is not Status.DRAFT:
            raise WrongStatus("submit", self.status)
        if breaches := self.policy_breaches():
            raise PolicyBreach(breaches)
        self.status = Status.SUBMITTED

    def approve(self, approver: str) -> None:
        if self.status is not Status.SUBMITTED:
            raise WrongStatus("approve", self.status)
        if approver == self.proposed_by:
            raise SelfApproval()
        if breaches := self.policy_breaches():
            raise PolicyBreach(breaches)
        self.status = Status.APPROVED
        self.approved_by = approver

    def publish(self, at: datetime) -> MicroCredentialPublished:
        if self.status is not Status.APPROVED:
            raise WrongStatus("publish", self.status)
        self.status = Status.PUBLISHED
        self.published_at = at
        return MicroCredentialPublished(
            micro_credential_id=self.id,
            version=self.version,
            code=self.code,
            title=self.title,
            summary=self.summary,
            description=self.description,
            learning_outcomes=self.learning_outcomes,
            assessment_description=self.assessment_description,
            pass_mark=self.pass_mark,
            credit_points=self.credit_points,
            notional_hours=self.notional_hours,
            cpd_hours=self.cpd_points,
            field_of_study=self.field_of_study,
            language=self.language,
            expiry_months=self.expiry_months,
            alignments=self.alignments,
            fee_cents=self.fee_cents,
            published_at=at,
        )

    def revision(self, version: int, proposed_by: str) -> MicroCredential:
        """A new draft version: a published version never changes."""
        return replace(
            self,
            version=version,
            status=Status.DRAFT,
            proposed_by=proposed_by,
            approved_by=None,
            published_at=None,
        )


@dataclass(frozen=True)
class OfferingPlan:
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    delivery_mode: str
    time_zone: str
    fee_cents: int | None
    lms_course_ref: str | None


class InvalidOffering(CatalogueError):
    pass


def schedule_offering(
    micro_credential: MicroCredential, offering_id: UUID, plan: OfferingPlan
) -> OfferingScheduled:
    """An offering is a cohort of one exact published version."""
    if micro_credential.status is not Status.PUBLISHED:
        raise WrongStatus("schedule an offering of", micro_credential.status)
    if plan.ends_on < plan.starts_on:
        raise InvalidOffering("An offering cannot end before it starts.")
    if plan.enrolment_closes_at <= plan.enrolment_opens_at:
        raise InvalidOffering("Enrolment must open before it closes.")
    return OfferingScheduled(
        offering_id=offering_id,
        micro_credential_id=micro_credential.id,
        micro_credential_version=micro_credential.version,
        code=micro_credential.code,
        title=micro_credential.title,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        enrolment_opens_at=plan.enrolment_opens_at,
        enrolment_closes_at=plan.enrolment_closes_at,
        capacity=plan.capacity,
        delivery_mode=plan.delivery_mode,
        fee_cents=micro_credential.fee_cents if plan.fee_cents is None else plan.fee_cents,
        time_zone=plan.time_zone,
        lms_course_ref=plan.lms_course_ref,
    )
