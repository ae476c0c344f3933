"""A micro-credential: its policy rules, one by one, and its lifecycle to disestablished."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from catalogue.domain.lifecycle import (
    CATEGORIES,
    DEFAULT_PASS_MARK,
    DEFAULT_POLICY,
    DELIVERY_MODES,
    ONLINE,
    REVIEW_INTERVAL,
    UNDERGRADUATE_COURSE,
    Lifecycle,
    Policy,
    PolicyBreach,
    Status,
    WrongStatus,
)
from credstack.contracts.catalogue import (
    Alignment,
    CreditPathway,
    Endorsement,
    LearningOutcome,
    MicroCredentialDisestablished,
    MicroCredentialPublished,
)
from credstack.validation import is_language_tag

PUBLISHED_ONCE = frozenset({Status.PUBLISHED, Status.SUPERSEDED, Status.DISESTABLISHED})
"""A version in one of these was published: its content is fixed and consumers know it."""


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
        """Every policy rule the item breaks, one line each, slug first."""
        return [
            *self._assessment_breaches(policy),
            *self._delivery_breaches(),
            *self._language_breaches(policy),
            *self._scope_breaches(),
        ]

    def _assessment_breaches(self, policy: Policy) -> list[str]:
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
        return breaches

    def _delivery_breaches(self) -> list[str]:
        breaches = []
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
        return breaches

    def _language_breaches(self, policy: Policy) -> list[str]:
        breaches = []
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
        return breaches

    def _scope_breaches(self) -> list[str]:
        breaches = []
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
        return self._published(at, stacks)

    def reannouncement(self, *, stacks: list[UUID]) -> MicroCredentialPublished:
        """The version's publication again, as published (the reconciler's repair for a
        consumer that missed it); changes nothing. A version that was never published
        (a draft, submitted or approved) has nothing to tell."""
        if self.published_at is None or self.status not in PUBLISHED_ONCE:
            raise WrongStatus("re-announce", self.status)
        return self._published(self.published_at, stacks)

    def _published(self, at: datetime, stacks: list[UUID]) -> MicroCredentialPublished:
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
