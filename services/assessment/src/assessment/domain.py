"""Pass rules: whether a graded, confirmed enrolment passed. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from credstack.contracts.assessment import AssessmentFailed, AssessmentPassed, OutcomeResult


@dataclass(frozen=True)
class PassRule:
    pass_mark: Decimal
    learning_outcome_ids: tuple[str, ...]

    def undemonstrated(self, outcomes: list[OutcomeResult] | None) -> list[str]:
        """Learning outcomes the grade does not show as demonstrated.

        A grade without per-outcome results is an overall result of an assessment that,
        by policy, assesses every outcome: it leaves none undemonstrated.
        """
        if outcomes is None:
            return []
        shown = {o.outcome_id for o in outcomes if o.demonstrated}
        return [o for o in self.learning_outcome_ids if o not in shown]

    def passes(self, score: Decimal, outcomes: list[OutcomeResult] | None) -> bool:
        return score >= self.pass_mark and not self.undemonstrated(outcomes)


@dataclass(frozen=True)
class ConfirmedEnrolment:
    id: UUID
    learner_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int


def decide(
    enrolment: ConfirmedEnrolment,
    rule: PassRule,
    *,
    score: Decimal,
    outcomes: list[OutcomeResult] | None,
    at: datetime,
) -> AssessmentPassed | AssessmentFailed:
    common = {
        "enrolment_id": enrolment.id,
        "learner_id": enrolment.learner_id,
        "micro_credential_id": enrolment.micro_credential_id,
        "micro_credential_version": enrolment.micro_credential_version,
        "decided_at": at,
        "score": score,
        "outcomes": outcomes or [],
    }
    if rule.passes(score, outcomes):
        return AssessmentPassed(**common)
    return AssessmentFailed(**common)
