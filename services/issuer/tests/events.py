"""Contract events as the catalogue, enrolment and assessment services publish them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from credstack.auth import learner_id_for
from credstack.contracts.assessment import (
    AssessmentPassed,
    AttendanceOnlyCompleted,
    ResultWithdrawn,
)
from credstack.contracts.catalogue import (
    Alignment,
    LearningOutcome,
    MicroCredentialPublished,
    StackPublished,
)
from credstack.contracts.enrolment import EnrolmentConfirmed, LearnerContactChanged

NOW = datetime.now(UTC)


def micro_credential(**changes: Any) -> MicroCredentialPublished:
    values: dict[str, Any] = {
        "micro_credential_id": uuid4(),
        "version": 2,
        "code": "MC-DATA-101",
        "title": "Data Cleaning",
        "description": "Prepare messy data for analysis.",
        "learning_outcomes": [LearningOutcome(id="LO1", description="Clean a dataset")],
        "pass_mark": Decimal(70),
        "credit_points": Decimal("3.125"),
        "notional_hours": Decimal(65),
        "cpd_hours": Decimal(60),
        "field_of_study": "Information Technology",
        "expiry_months": 36,
        "alignments": [
            Alignment(name="Data quality", url="https://esco.example/skill/1", code="S1")
        ],
        "published_at": NOW,
    }
    return MicroCredentialPublished(**(values | changes))


def stack_of(*members: MicroCredentialPublished, **changes: Any) -> StackPublished:
    values: dict[str, Any] = {
        "stack_id": uuid4(),
        "version": 1,
        "code": "MC-SERIES-1",
        "title": "Data for Decisions",
        "description": "A series of micro-credentials in data.",
        "kind": "series",
        "members": [m.micro_credential_id for m in members],
        "credit_points": sum((m.credit_points for m in members), Decimal(0)),
        "published_at": NOW,
    }
    return StackPublished(**(values | changes))


@dataclass
class Learner:
    subject: str = field(default_factory=lambda: f"learner-{uuid4().hex[:8]}")
    name: str = "Ada Lovelace"
    email: str = "ada@example.org"
    did: str | None = None

    @property
    def id(self) -> UUID:
        return learner_id_for(self.subject)

    def confirmed(
        self, item: MicroCredentialPublished, enrolment_id: UUID | None = None
    ) -> EnrolmentConfirmed:
        return EnrolmentConfirmed(
            enrolment_id=enrolment_id or uuid4(),
            learner_id=self.id,
            learner_name=self.name,
            email=self.email,
            learner_did=self.did,
            offering_id=uuid4(),
            micro_credential_id=item.micro_credential_id,
            micro_credential_version=item.version,
            confirmed_at=NOW,
        )


def contact(
    learner: Learner, *, name: str | None = None, at: datetime = NOW
) -> LearnerContactChanged:
    """The learner's contact details as enrolment.contacts carries them."""
    return LearnerContactChanged(
        learner_id=learner.id, email=learner.email, name=name or learner.name, changed_at=at
    )


def passed(
    enrolment: EnrolmentConfirmed, *, score: str = "86.5", at: datetime = NOW
) -> AssessmentPassed:
    return AssessmentPassed(
        enrolment_id=enrolment.enrolment_id,
        learner_id=enrolment.learner_id,
        micro_credential_id=enrolment.micro_credential_id,
        micro_credential_version=enrolment.micro_credential_version,
        decided_at=at,
        score=Decimal(score),
        evidence=["https://lms.example.edu/submissions/42"],
    )


def attended(enrolment: EnrolmentConfirmed) -> AttendanceOnlyCompleted:
    return AttendanceOnlyCompleted(
        enrolment_id=enrolment.enrolment_id,
        learner_id=enrolment.learner_id,
        micro_credential_id=enrolment.micro_credential_id,
        micro_credential_version=enrolment.micro_credential_version,
        decided_at=NOW,
        sessions_attended=5,
        sessions_total=6,
    )


def withdrawn(
    enrolment: EnrolmentConfirmed, reason: str = "misconduct", released_outcome: str | None = None
) -> ResultWithdrawn:
    return ResultWithdrawn(
        enrolment_id=enrolment.enrolment_id,
        learner_id=enrolment.learner_id,
        micro_credential_id=enrolment.micro_credential_id,
        micro_credential_version=enrolment.micro_credential_version,
        decided_at=NOW,
        reason=reason,
        released_outcome=released_outcome,
    )
