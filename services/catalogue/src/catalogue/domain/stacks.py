"""A stack: micro-credentials that together earn a stack credential, and its rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from catalogue.domain.lifecycle import (
    DEFAULT_POLICY,
    Lifecycle,
    Policy,
    Status,
    WrongStatus,
)
from credstack.contracts.catalogue import (
    CreditPathway,
    LearningOutcome,
    StackPublished,
)


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
        return self._published(at)

    def reannouncement(self) -> StackPublished:
        """The stack's publication again, as it stands (the reconciler's repair for a
        consumer that missed it); changes nothing."""
        if self.status is not Status.PUBLISHED or self.published_at is None:
            raise WrongStatus("re-announce", self.status)
        return self._published(self.published_at)

    def _published(self, at: datetime) -> StackPublished:
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
