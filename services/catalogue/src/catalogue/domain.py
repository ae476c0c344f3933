"""Micro-credentials, stacks and offerings: the lifecycle and the policy rules. No I/O here.

The rules come from the university's micro-credential policy and FAQs
(`../shared/seeds/`): each is named by a stable slug so that a refusal can name every
rule an item breaks.

Longer than our usual module (about 530 lines): the policy rules are spelled out one by
one, and micro-credentials, stacks and offerings share one lifecycle; the catalogue
stays flat while it is this small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal, get_args
from uuid import UUID

import langcodes

from credstack.contracts.catalogue import (
    Alignment,
    CreditPathway,
    Endorsement,
    LearningOutcome,
    MicroCredentialDisestablished,
    MicroCredentialPublished,
    OfferingCancelled,
    OfferingRescheduled,
    OfferingScheduled,
    StackPublished,
)
from credstack.refusals import Reason, Refusal
from credstack.validation import is_language_tag

DEFAULT_PASS_MARK = Decimal(70)
HOURS_PER_CREDIT_POINT = (Decimal(20), Decimal(23))
REVIEW_INTERVAL = timedelta(days=365)
Category = Literal["senior-executive-education", "professional-development", "personal-development"]
DeliveryMode = Literal["on-campus", "external-on-site", "synchronous-online"]
CATEGORIES: tuple[str, ...] = get_args(Category)
DELIVERY_MODES: tuple[str, ...] = get_args(DeliveryMode)
ONLINE = "synchronous-online"
UNDERGRADUATE_COURSE = re.compile(r"^[A-Z]{4}\s?([1-3])\d{3}[A-Z]?$")


def language_name(tag: str) -> str:
    """The language's English name (`zh-Hant-TW`: Chinese (Traditional, Taiwan)); the tag
    itself for one langcodes cannot read (never stored by this service: it is refused)."""
    try:
        return str(langcodes.Language.get(tag).display_name("en"))
    except (ValueError, LookupError):
        return tag


CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


@dataclass(frozen=True)
class Policy:
    """The centre's policy where it is a setting (`CATALOGUE_POLICY_*`); the defaults are
    the seed FAQ's (70% to pass, 20-23 notional hours per credit point, CEFR levels)."""

    min_pass_mark: Decimal = DEFAULT_PASS_MARK
    hours_per_credit_point: tuple[Decimal, Decimal] = HOURS_PER_CREDIT_POINT
    hours_per_credit_point_enforced: bool = False
    language_levels: tuple[str, ...] = CEFR_LEVELS


DEFAULT_POLICY = Policy()


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    DISESTABLISHED = "disestablished"


class CatalogueError(Refusal):
    """A request the catalogue's rules refuse."""

    code = "refused"
    reason = Reason.UNPROCESSABLE


class WrongStatus(CatalogueError):
    code = "wrong-status"
    reason = Reason.CONFLICT

    def __init__(self, action: str, status: Status) -> None:
        super().__init__(f"Cannot {action} an item that is {status.value}.")


class SelfApproval(CatalogueError):
    code = "self-approval"
    reason = Reason.FORBIDDEN

    def __init__(self) -> None:
        super().__init__("An approver cannot approve an item they proposed.")


class PolicyBreach(CatalogueError):
    """Every policy rule the item breaks, each as `rule-slug: explanation`."""

    code = "policy-breach"
    title = "Policy breach"

    def __init__(self, breaches: list[str]) -> None:
        super().__init__(f"The item breaks {len(breaches)} policy rule(s).", breaches=breaches)
        self.breaches = breaches


class InvalidOffering(CatalogueError):
    code = "invalid-offering"


class Lifecycle:
    """draft → submitted → approved (by someone else) → published → disestablished.

    A mixin for the dataclasses below, which define these three fields.
    """

    status: Status
    proposed_by: str
    approved_by: str | None

    def policy_breaches(self, policy: Policy = DEFAULT_POLICY) -> list[str]:
        raise NotImplementedError

    def submit(self, policy: Policy = DEFAULT_POLICY) -> None:
        """Submit for approval; submitting again (a client's retry) changes nothing."""
        if self.status is Status.SUBMITTED:
            return
        if self.status is not Status.DRAFT:
            raise WrongStatus("submit", self.status)
        if breaches := self.policy_breaches(policy):
            raise PolicyBreach(breaches)
        self.status = Status.SUBMITTED

    def return_to_draft(self) -> None:
        if self.status not in (Status.SUBMITTED, Status.APPROVED):
            raise WrongStatus("return to draft", self.status)
        self.status = Status.DRAFT
        self.approved_by = None

    def approve(self, approver: str, policy: Policy = DEFAULT_POLICY) -> None:
        """Approve; the same approver approving again (a retry) changes nothing."""
        if self.status is Status.APPROVED and self.approved_by == approver:
            return
        if self.status is not Status.SUBMITTED:
            raise WrongStatus("approve", self.status)
        if approver == self.proposed_by:
            raise SelfApproval()
        if breaches := self.policy_breaches(policy):
            raise PolicyBreach(breaches)
        self.status = Status.APPROVED
        self.approved_by = approver

    def _publish(self) -> None:
        if self.status is not Status.APPROVED:
            raise WrongStatus("publish", self.status)
        self.status = Status.PUBLISHED

    def check_editable(self) -> None:
        """Only a draft changes; a published version never does (revise it instead)."""
        if self.status is not Status.DRAFT:
            raise WrongStatus("edit", self.status)


@dataclass
class MicroCredential(Lifecycle):
    id: UUID
    version: int
    code: str
    title: str
    description: str
    learning_outcomes: list[LearningOutcome]
    credit_points: Decimal
    notional_hours: Decimal
    summary: str = ""
    alignments: list[Alignment] = field(default_factory=list)
    endorsements: list[Endorsement] = field(default_factory=list)
    category: str = "professional-development"
    field_of_study: str = ""
    level: str = "graduate"
    contact_hours: Decimal | None = None
    cpd_hours: Decimal | None = None
    delivery_modes: list[str] = field(default_factory=lambda: ["on-campus"])
    online_delivery_approval: str | None = None
    language: str = "en"
    is_language_micro_credential: bool = False
    language_level: str | None = None
    assessment_description: str = ""
    assessment_word_equivalent: int | None = None
    pass_mark: Decimal = DEFAULT_PASS_MARK
    fee_cents: int = 0
    eligibility: str = ""
    prerequisites: list[UUID] = field(default_factory=list)
    expiry_months: int | None = None
    credit_pathways: list[CreditPathway] = field(default_factory=list)
    strategic_plan_alignment: str = ""
    convenor: str = ""
    teaching_staff: list[str] = field(default_factory=list)
    co_taught_courses: list[str] = field(default_factory=list)
    review_due_on: date | None = None
    published_at: datetime | None = None
    status: Status = Status.DRAFT
    proposed_by: str = ""
    approved_by: str | None = None

    @property
    def cpd_points(self) -> Decimal:
        """One CPD point per notional hour unless set explicitly."""
        return self.cpd_hours if self.cpd_hours is not None else self.notional_hours

    @property
    def in_english(self) -> bool:
        return self.language.lower().split("-")[0] == "en"

    def warnings(self, policy: Policy = DEFAULT_POLICY) -> list[str]:
        """Guidelines (not rules, unless the policy enforces them): shown to staff."""
        low, high = policy.hours_per_credit_point
        if self.credit_points > 0:
            per_point = self.notional_hours / self.credit_points
            if not low <= per_point <= high:
                return [
                    f"notional-hours: {per_point:.1f} hours per credit point is outside the "
                    f"{low}-{high} hour guideline"
                ]
        return []

    def policy_breaches(self, policy: Policy = DEFAULT_POLICY) -> list[str]:
        breaches = []
        if not self.learning_outcomes:
            breaches.append("learning-outcomes: at least one learning outcome is required")
        if empty := [o.id for o in self.learning_outcomes if not o.description.strip()]:
            breaches.append(
                f"learning-outcomes: each learning outcome needs a description ({', '.join(empty)})"
            )
        if len({o.id for o in self.learning_outcomes}) != len(self.learning_outcomes):
            breaches.append("learning-outcomes: each learning outcome needs its own id")
        if not self.assessment_description.strip():
            breaches.append(
                "assessment: describe the assessment that demonstrates each learning outcome"
            )
        if not Decimal(0) < self.pass_mark <= Decimal(100):
            breaches.append("pass-mark: must be above 0 and at most 100 percent")
        elif self.pass_mark < policy.min_pass_mark:
            breaches.append(
                f"pass-mark: {self.pass_mark}% is below the centre's minimum pass mark "
                f"of {policy.min_pass_mark}%"
            )
        if policy.hours_per_credit_point_enforced:
            breaches += self.warnings(policy)
        if self.credit_points <= 0:
            breaches.append("credit-points: a micro-credential carries credit points")
        if self.level != "graduate":
            breaches.append("level: micro-credentials are designed and taught at graduate level")
        if self.category not in CATEGORIES:
            breaches.append(f"category: must be one of {', '.join(CATEGORIES)}")
        if not self.strategic_plan_alignment.strip():
            breaches.append(
                "strategic-plan: state how the micro-credential aligns with the strategic plan"
            )
        if not self.convenor.strip():
            breaches.append("convenor: a convenor is required")
        if not self.delivery_modes:
            breaches.append(
                "delivery-mode: a face-to-face component (in person or online) is required"
            )
        if unknown := [m for m in self.delivery_modes if m not in DELIVERY_MODES]:
            breaches.append(f"delivery-mode: unknown mode(s) {', '.join(unknown)}")
        if ONLINE in self.delivery_modes and not (self.online_delivery_approval or "").strip():
            breaches.append(
                "online-delivery: synchronous online delivery needs a recorded special approval"
            )
        if not is_language_tag(self.language):
            breaches.append(
                "language: the language of instruction must be a BCP 47 language tag "
                "(e.g. en, fr, zh-Hant-TW)"
            )
        if self.is_language_micro_credential and not (self.language_level or "").strip():
            breaches.append(
                "language-level: a language micro-credential states the level it teaches"
            )
        elif self.language_level and self.language_level.strip() not in policy.language_levels:
            breaches.append(
                f"language-level: {self.language_level} is not one of the allowed levels "
                f"({', '.join(policy.language_levels)})"
            )
        if undergraduate := [c for c in self.co_taught_courses if co_taught_undergraduate(c)]:
            breaches.append(
                "co-teaching: cannot be co-taught with 1000-, 2000- or 3000-level undergraduate "
                f"courses ({', '.join(undergraduate)})"
            )
        if self.id in self.prerequisites:
            breaches.append("prerequisites: a micro-credential cannot be its own prerequisite")
        return breaches

    def publish(self, at: datetime, *, stacks: list[UUID]) -> MicroCredentialPublished:
        self._publish()
        self.published_at = at
        self.review_due_on = self.review_due_on or (at + REVIEW_INTERVAL).date()
        return MicroCredentialPublished(
            micro_credential_id=self.id,
            version=self.version,
            code=self.code,
            title=self.title,
            summary=self.summary,
            description=self.description,
            learning_outcomes=self.learning_outcomes,
            alignments=self.alignments,
            endorsements=self.endorsements,
            category=self.category,
            field_of_study=self.field_of_study,
            level=self.level,
            credit_points=self.credit_points,
            notional_hours=self.notional_hours,
            contact_hours=self.contact_hours,
            cpd_hours=self.cpd_points,
            delivery_modes=self.delivery_modes,
            language=self.language,
            is_language_micro_credential=self.is_language_micro_credential,
            language_level=self.language_level,
            assessment_description=self.assessment_description,
            assessment_word_equivalent=self.assessment_word_equivalent,
            pass_mark=self.pass_mark,
            fee_cents=self.fee_cents,
            eligibility=self.eligibility,
            prerequisites=self.prerequisites,
            expiry_months=self.expiry_months,
            credit_pathways=self.credit_pathways,
            convenor=self.convenor,
            stacks=stacks,
            published_at=at,
        )

    def supersede(self) -> None:
        """An older published version, once its revision is published."""
        if self.status is not Status.PUBLISHED:
            raise WrongStatus("supersede", self.status)
        self.status = Status.SUPERSEDED

    def disestablish(self, at: datetime) -> MicroCredentialDisestablished:
        if self.status is not Status.PUBLISHED:
            raise WrongStatus("disestablish", self.status)
        self.status = Status.DISESTABLISHED
        return MicroCredentialDisestablished(micro_credential_id=self.id, disestablished_at=at)

    def revision(self, version: int, proposed_by: str) -> MicroCredential:
        """A new draft version of a published one: a published version never changes."""
        if self.status is not Status.PUBLISHED:
            raise WrongStatus("revise", self.status)
        return replace(
            self,
            version=version,
            status=Status.DRAFT,
            proposed_by=proposed_by,
            approved_by=None,
            published_at=None,
            review_due_on=None,
        )

    def record_review(self, on: date, *, today: date) -> None:
        if self.status is not Status.PUBLISHED:
            raise WrongStatus("review", self.status)
        if on > today:
            raise PolicyBreach([f"review-date: a review cannot be dated in the future ({on})"])
        self.review_due_on = on + REVIEW_INTERVAL


def co_taught_undergraduate(course_code: str) -> bool:
    """True for a 1000-, 2000- or 3000-level undergraduate course code (e.g. COMP2100)."""
    return bool(UNDERGRADUATE_COURSE.match(course_code.strip().upper()))


@dataclass(frozen=True)
class StackMember:
    id: UUID
    code: str
    credit_points: Decimal
    status: Status
    title: str = ""


@dataclass
class Stack(Lifecycle):
    """A stack is itself a micro-credential made of two or more micro-credentials.

    A series is ordered (e.g. four of 3.125 points = 12.5 points, credit towards named
    award programs); a suite groups related ones. Complete with all members, or with
    `required_count` of them, optionally all earned within `within_months`.
    """

    id: UUID
    version: int
    code: str
    title: str
    description: str
    kind: Literal["series", "suite"]
    members: list[StackMember]
    required_count: int | None = None
    within_months: int | None = None
    learning_outcomes: list[LearningOutcome] = field(default_factory=list)
    field_of_study: str = ""
    language: str = "en"
    credit_pathways: list[CreditPathway] = field(default_factory=list)
    published_at: datetime | None = None
    status: Status = Status.DRAFT
    proposed_by: str = ""
    approved_by: str | None = None

    @property
    def credit_points(self) -> Decimal:
        return sum((m.credit_points for m in self.members), Decimal(0))

    def policy_breaches(self, policy: Policy = DEFAULT_POLICY) -> list[str]:
        breaches = []
        if self.kind not in ("series", "suite"):
            breaches.append("stack-kind: a stack is a series or a suite")
        if len(self.members) < 2:
            breaches.append("stack-members: a stack is made of two or more micro-credentials")
        if len({m.id for m in self.members}) != len(self.members):
            breaches.append("stack-members: a micro-credential appears twice")
        if unpublished := [m.code for m in self.members if m.status is not Status.PUBLISHED]:
            breaches.append(f"stack-members: not published: {', '.join(unpublished)}")
        if self.required_count is not None and not 1 <= self.required_count <= len(self.members):
            breaches.append(
                "stack-completion: the required number must be between 1 and the members"
            )
        if self.within_months is not None and self.within_months < 1:
            breaches.append("stack-completion: the time window is at least one month")
        return breaches

    def publish(self, at: datetime) -> StackPublished:
        self._publish()
        self.published_at = at
        return StackPublished(
            stack_id=self.id,
            version=self.version,
            code=self.code,
            title=self.title,
            description=self.description,
            kind=self.kind,
            members=[m.id for m in self.members],
            required_count=self.required_count,
            within_months=self.within_months,
            credit_points=self.credit_points,
            learning_outcomes=self.learning_outcomes,
            field_of_study=self.field_of_study,
            language=self.language,
            credit_pathways=self.credit_pathways,
            published_at=at,
        )


class OfferingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OfferingPlan:
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    delivery_mode: str
    time_zone: str = "Australia/Sydney"
    location: str = ""
    fee_cents: int | None = None
    convenor: str | None = None
    lms_course_ref: str | None = None
    contact_sessions: int | None = None

    def problems(self) -> list[str]:
        problems = []
        if self.ends_on < self.starts_on:
            problems.append("an offering cannot end before it starts")
        if self.enrolment_closes_at <= self.enrolment_opens_at:
            problems.append("enrolment must open before it closes")
        if self.enrolment_opens_at.date() > self.starts_on:
            problems.append("enrolment must open before the offering starts")
        if self.enrolment_closes_at.date() > self.starts_on:
            problems.append(
                "enrolment-window: enrolment must close before the offering starts "
                f"(closes {self.enrolment_closes_at.date()}, starts {self.starts_on})"
            )
        return problems


@dataclass
class Offering:
    id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    plan: OfferingPlan
    status: OfferingStatus = OfferingStatus.SCHEDULED
    enrolment_announced: bool = False

    def is_open(self, at: datetime) -> bool:
        return (
            self.status is OfferingStatus.SCHEDULED
            and self.plan.enrolment_opens_at <= at < self.plan.enrolment_closes_at
        )

    def reschedule(self, plan: OfferingPlan, at: datetime) -> OfferingRescheduled:
        if self.status is not OfferingStatus.SCHEDULED:
            raise InvalidOffering("A cancelled offering cannot be rescheduled.")
        if problems := plan.problems():
            raise InvalidOffering("; ".join(problems))
        self.plan = replace(
            self.plan,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            enrolment_opens_at=plan.enrolment_opens_at,
            enrolment_closes_at=plan.enrolment_closes_at,
            capacity=plan.capacity,
        )
        return OfferingRescheduled(
            offering_id=self.id,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            enrolment_opens_at=plan.enrolment_opens_at,
            enrolment_closes_at=plan.enrolment_closes_at,
            capacity=plan.capacity,
            rescheduled_at=at,
        )

    def cancel(self, reason: str, at: datetime) -> OfferingCancelled:
        if self.status is OfferingStatus.CANCELLED:
            raise InvalidOffering("The offering is already cancelled.")
        self.status = OfferingStatus.CANCELLED
        return OfferingCancelled(offering_id=self.id, reason=reason, cancelled_at=at)


def schedule_offering(
    micro_credential: MicroCredential, offering_id: UUID, plan: OfferingPlan
) -> tuple[Offering, OfferingScheduled]:
    """An offering is a cohort of one exact published version (not self-paced)."""
    if micro_credential.status is not Status.PUBLISHED:
        raise WrongStatus("schedule an offering of", micro_credential.status)
    problems = plan.problems()
    if plan.delivery_mode not in micro_credential.delivery_modes:
        problems.append(
            f"delivery mode {plan.delivery_mode} is not approved for {micro_credential.code} "
            f"(approved: {', '.join(micro_credential.delivery_modes)})"
        )
    if problems:
        raise InvalidOffering("; ".join(problems))
    fee = micro_credential.fee_cents if plan.fee_cents is None else plan.fee_cents
    plan = replace(plan, fee_cents=fee, convenor=plan.convenor or micro_credential.convenor)
    offering = Offering(
        id=offering_id,
        micro_credential_id=micro_credential.id,
        micro_credential_version=micro_credential.version,
        plan=plan,
    )
    return offering, OfferingScheduled(
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
        location=plan.location,
        fee_cents=fee,
        time_zone=plan.time_zone,
        convenor=plan.convenor or "",
        lms_course_ref=plan.lms_course_ref,
        contact_sessions=plan.contact_sessions,
        language=micro_credential.language,
        is_language_micro_credential=micro_credential.is_language_micro_credential,
        language_level=micro_credential.language_level,
        prerequisites=micro_credential.prerequisites,
    )
