"""A result and what shapes it: grades, attendance, the pass rule, moderation and integrity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from uuid import UUID

from credstack.contracts.assessment import (
    OutcomeResult,
)
from credstack.refusals import Reason, Refusal

DEFAULT_ATTENDANCE_SHARE = Decimal("0.8")
SCORE_QUANTUM = Decimal("0.001")
MAX_SCORE = Decimal("999999.999")


class AssessmentError(Refusal):
    """A request the rules refuse; the message says why."""

    code = "unprocessable"
    reason = Reason.UNPROCESSABLE


class ScoreOutOfRange(AssessmentError):
    pass


class ResultClosed(AssessmentError):
    """The result was withdrawn for academic misconduct: nothing changes it any more."""

    code = "result-withdrawn"
    reason = Reason.CONFLICT


class CaseAlreadyOpen(AssessmentError):
    code = "integrity-case-state"
    reason = Reason.CONFLICT


class CaseAlreadyDecided(AssessmentError):
    code = "integrity-case-state"
    reason = Reason.CONFLICT


def percent(given: Decimal, maximum: Decimal, minimum: Decimal = Decimal(0)) -> Decimal:
    """`given` on a scale from `minimum` to `maximum`, in percent.

    Truncated (never rounded up) to three decimals: with a pass mark of at most three
    decimals, the truncated score reaches the mark exactly when the true score does.
    Above 100 is extra credit and allowed.
    """
    value = ((given - minimum) * 100 / (maximum - minimum)).quantize(SCORE_QUANTUM, ROUND_DOWN)
    if abs(value) > MAX_SCORE:
        raise ScoreOutOfRange(f"A score of {value}% is beyond any plausible extra credit.")
    return value


class GradeStatus(StrEnum):
    """A stored grade: counts for its enrolment (`kept`), maps to nobody yet
    (`quarantined`), or was set aside by staff (`dismissed`)."""

    KEPT = "kept"
    QUARANTINED = "quarantined"
    DISMISSED = "dismissed"


class EnrolmentStatus(StrEnum):
    """An enrolment as enrolment announced it; only a confirmed one is assessed."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ATTENDANCE_ONLY = "attendance_only"
    WITHDRAWN = "withdrawn"


# Outcomes that earn a credential: the micro-credential, or a certificate of attendance.
CREDENTIAL_BEARING = frozenset({Outcome.PASSED, Outcome.ATTENDANCE_ONLY})


@dataclass(frozen=True)
class PassRule:
    pass_mark: Decimal
    learning_outcome_ids: tuple[str, ...]

    def undemonstrated(self, outcomes: tuple[OutcomeResult, ...] | None) -> list[str]:
        """Learning outcomes the grade does not show as demonstrated.

        A grade without per-outcome results is the overall result of the assessment,
        which by policy requires demonstration of each learning outcome: it leaves none
        undemonstrated. A grade that lists outcomes must show every one of them.
        """
        if outcomes is None:
            return []
        shown = {o.outcome_id for o in outcomes if o.demonstrated}
        return [o for o in self.learning_outcome_ids if o not in shown]

    def passes(self, score: Decimal, outcomes: tuple[OutcomeResult, ...] | None) -> bool:
        return score >= self.pass_mark and not self.undemonstrated(outcomes)


@dataclass(frozen=True)
class Attendance:
    """Contact sessions attended out of those the offering has.

    `sessions` is the offering's number of contact sessions when the catalogue gives
    it, else the number of sessions for which any attendance was recorded.
    """

    attended: int
    sessions: int

    def completed(self, required_share: Decimal) -> bool:
        needed = math.ceil(required_share * self.sessions)
        return self.sessions > 0 and self.attended >= max(needed, 1)


@dataclass(frozen=True)
class Grade:
    """One grade as the rules see it: a percentage and, optionally, each outcome."""

    score: Decimal | None
    outcomes: tuple[OutcomeResult, ...] | None
    final: bool
    evidence: tuple[str, ...] = ()
    id: int | None = None


class ModerationAction(StrEnum):
    REGRADE = "regrade"
    OVERRIDE = "override"


@dataclass(frozen=True)
class Moderation:
    """A staff decision that stands over the LMS's grades until the next moderation."""

    action: ModerationAction
    reason: str
    score: Decimal | None = None
    outcomes: tuple[OutcomeResult, ...] | None = None
    outcome: Outcome | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.action is ModerationAction.REGRADE and self.score is None:
            raise AssessmentError("A regrade gives a score.")
        if self.action is ModerationAction.OVERRIDE and self.outcome not in (
            Outcome.PASSED,
            Outcome.FAILED,
            Outcome.ATTENDANCE_ONLY,
        ):
            raise AssessmentError(
                "An override sets the outcome to passed, failed or attendance_only."
            )


class CaseStatus(StrEnum):
    OPEN = "open"
    MISCONDUCT = "misconduct"
    CLEARED = "cleared"


@dataclass(frozen=True)
class Integrity:
    """The enrolment's academic integrity cases, as far as the result is concerned."""

    open: bool = False
    misconduct: str | None = None  # the finding's note, once misconduct is found


@dataclass(frozen=True)
class ConfirmedEnrolment:
    id: UUID
    learner_id: UUID
    micro_credential_id: UUID
    micro_credential_version: int


@dataclass(frozen=True)
class Result:
    """What stands for an enrolment: the current judgement and what was last released."""

    outcome: Outcome | None = None
    released: Outcome | None = None
    held: bool = False
    score: Decimal | None = None
    outcomes: tuple[OutcomeResult, ...] | None = None
    grade_id: int | None = None
    moderation_id: int | None = None
    sequence: int = 0
    """The sequence of the last decision announced: each announcement takes the next one."""

    @property
    def closed(self) -> bool:
        return self.outcome is Outcome.WITHDRAWN


def open_case(integrity: Integrity, result: Result) -> None:
    """Staff may open a case unless one is open or misconduct was already found."""
    if result.closed or integrity.misconduct is not None:
        raise ResultClosed("Misconduct was already found on this enrolment.")
    if integrity.open:
        raise CaseAlreadyOpen("An integrity case is already open on this enrolment.")


def moderate(result: Result) -> None:
    if result.closed:
        raise ResultClosed(
            "The result was withdrawn for academic misconduct; it cannot be moderated."
        )
