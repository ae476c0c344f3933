"""Deciding a result: pass, attendance only or fail; released, held or superseded.

No I/O here. `decide` takes everything known about one confirmed enrolment's assessment
(its `Standing`) and returns the result that now stands and the events announcing what
changed. It is called again whenever any input changes (a grade, the confirmation, the
pass rule, attendance, a moderation, an integrity case), so it must be idempotent: the
same standing twice gives the same result and no new events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from assessment.domain.results import (
    CREDENTIAL_BEARING,
    DEFAULT_ATTENDANCE_SHARE,
    Attendance,
    ConfirmedEnrolment,
    Grade,
    Integrity,
    Moderation,
    ModerationAction,
    Outcome,
    PassRule,
    Result,
)
from credstack.contracts.assessment import (
    AssessmentFailed,
    AssessmentPassed,
    AttendanceOnlyCompleted,
    OutcomeResult,
    ResultWithdrawn,
)
from credstack.contracts.envelope import Event


@dataclass(frozen=True)
class Standing:
    """Everything known about one confirmed enrolment's assessment."""

    enrolment: ConfirmedEnrolment
    rule: PassRule
    grade: Grade | None  # the LMS's latest grade (by the LMS's time), final or not
    moderation: Moderation | None  # the latest moderation, which stands over LMS grades
    attendance: Attendance
    integrity: Integrity
    result: Result


@dataclass(frozen=True)
class Decision:
    result: Result
    events: list[Event]


@dataclass(frozen=True)
class _Judgement:
    outcome: Outcome
    cause: str
    score: Decimal | None = None
    outcomes: tuple[OutcomeResult, ...] | None = None
    evidence: tuple[str, ...] = ()
    grade_id: int | None = None
    moderation_id: int | None = None


def _judge(standing: Standing, required_share: Decimal) -> _Judgement | None:
    """The outcome the inputs call for, or None while there is nothing final to judge."""
    moderation = standing.moderation
    lms = standing.grade
    if standing.integrity.misconduct is not None:
        return _Judgement(
            Outcome.WITHDRAWN, f"academic misconduct found: {standing.integrity.misconduct}"
        )
    if moderation is not None and moderation.action is ModerationAction.OVERRIDE:
        assert moderation.outcome is not None
        return _Judgement(
            moderation.outcome,
            f"moderated: {moderation.reason}",
            score=lms.score if lms and lms.final else None,
            outcomes=lms.outcomes if lms and lms.final else None,
            moderation_id=moderation.id,
        )
    if moderation is not None:
        grade = Grade(
            score=moderation.score,
            outcomes=moderation.outcomes,
            final=True,
            evidence=lms.evidence if lms else (),
        )
        cause, moderation_id = f"regraded by staff: {moderation.reason}", moderation.id
    elif lms is not None and lms.final and lms.score is not None:
        grade, cause, moderation_id = lms, f"graded {lms.score.normalize():f}% by the LMS", None
    else:
        return None
    assert grade.score is not None
    if standing.rule.passes(grade.score, grade.outcomes):
        outcome = Outcome.PASSED
    elif standing.attendance.completed(required_share):
        outcome = Outcome.ATTENDANCE_ONLY
    else:
        outcome = Outcome.FAILED
    return _Judgement(
        outcome,
        cause,
        score=grade.score,
        outcomes=grade.outcomes,
        evidence=grade.evidence,
        grade_id=lms.id if lms else None,
        moderation_id=moderation_id,
    )


def _supersedes(new: Outcome, released: Outcome) -> bool:
    """Whether `new` keeps the credential `released` earned: a pass supersedes a
    certificate of attendance (the attendance is still a fact); nothing else does."""
    return new is released or (new is Outcome.PASSED and released is Outcome.ATTENDANCE_ONLY)


def decide(
    standing: Standing, *, at: datetime, required_share: Decimal = DEFAULT_ATTENDANCE_SHARE
) -> Decision:
    """The result that stands now, and the events for what changed since the last one.

    - Pass: the score reaches the pass mark and every learning outcome is demonstrated.
    - Otherwise attendance of the contact sessions earns a certificate of attendance,
      and without it the learner fails.
    - Only final grades decide; a moderation stands over the LMS's grades.
    - A pass is not released while an integrity case is open; misconduct withdraws.
    - A released credential that the new result no longer supports is withdrawn
      (`ResultWithdrawn`, which makes the issuer revoke) before the new result is told.
    - A released pass regraded to another passing score (or other outcomes) is released
      again (`AssessmentPassed`): the issuer supersedes the credential it issued.
    """
    previous = standing.result
    if previous.closed:
        return Decision(previous, [])
    judgement = _judge(standing, required_share)
    if judgement is None:
        return Decision(previous, [])
    held = (
        judgement.outcome is Outcome.PASSED
        and standing.integrity.open
        and previous.released is not Outcome.PASSED
    )
    result = Result(
        outcome=judgement.outcome,
        released=previous.released if held else judgement.outcome,
        held=held,
        score=judgement.score,
        outcomes=judgement.outcomes,
        grade_id=judgement.grade_id,
        moderation_id=judgement.moderation_id,
    )
    unchanged = replace(result, sequence=previous.sequence)
    if held:
        return Decision(unchanged, [])
    if judgement.outcome is previous.released and not _regraded_pass(standing, result):
        return Decision(unchanged, [])
    events = _announcements(standing, judgement, at=at)
    return Decision(replace(result, sequence=previous.sequence + len(events)), events)


def _regraded_pass(standing: Standing, result: Result) -> bool:
    """A released pass with another score or other outcomes is released again, so that the
    issuer re-issues; under a staff override the pass stands as moderated and later LMS
    scores change nothing."""
    previous = standing.result
    overridden = (
        standing.moderation is not None and standing.moderation.action is ModerationAction.OVERRIDE
    )
    return (
        result.outcome is Outcome.PASSED
        and not overridden
        and (result.score != previous.score or result.outcomes != previous.outcomes)
    )


def _announcements(standing: Standing, judgement: _Judgement, *, at: datetime) -> list[Event]:
    """The events for releasing `judgement` in place of what was released before."""
    enrolment, before, now_released = (
        standing.enrolment,
        standing.result.released,
        judgement.outcome,
    )
    common = {
        "enrolment_id": enrolment.id,
        "learner_id": enrolment.learner_id,
        "micro_credential_id": enrolment.micro_credential_id,
        "micro_credential_version": enrolment.micro_credential_version,
        "decided_at": at,
    }
    sequence = standing.result.sequence
    events: list[Event] = []
    if (
        before is not None
        and before in CREDENTIAL_BEARING
        and not _supersedes(now_released, before)
    ):
        sequence += 1
        events.append(
            ResultWithdrawn(
                **common,
                reason=judgement.cause,
                released_outcome=before.value,
                sequence=sequence,
            )
        )
    sequence += 1
    graded = {"score": judgement.score or Decimal(0), "outcomes": list(judgement.outcomes or ())}
    if now_released is Outcome.PASSED:
        events.append(
            AssessmentPassed(
                **common, **graded, evidence=list(judgement.evidence), sequence=sequence
            )
        )
    elif now_released is Outcome.FAILED:
        events.append(AssessmentFailed(**common, **graded, sequence=sequence))
    elif now_released is Outcome.ATTENDANCE_ONLY:
        events.append(
            AttendanceOnlyCompleted(
                **common,
                sessions_attended=standing.attendance.attended,
                sessions_total=standing.attendance.sessions,
                sequence=sequence,
            )
        )
    return events


def reannouncement(standing: Standing, *, at: datetime) -> list[Event]:
    """The events that tell the released result again, for the reconciler to repair a
    consumer that missed it: at the result's own sequence (consumers apply an equal
    sequence again, idempotently), with new event ids.

    A pass is told as a pass; a certificate of attendance as attendance plus a withdrawn
    pass (a pass may have been withdrawn into it); a fail or a withdrawn result as the
    withdrawal of both credential-bearing results. Nothing released: nothing to tell.
    """
    released, result = standing.result.released, standing.result
    if released is None or result.sequence == 0:
        return []
    enrolment = standing.enrolment
    common = {
        "enrolment_id": enrolment.id,
        "learner_id": enrolment.learner_id,
        "micro_credential_id": enrolment.micro_credential_id,
        "micro_credential_version": enrolment.micro_credential_version,
        "decided_at": at,
        "sequence": result.sequence,
    }
    graded = {"score": result.score or Decimal(0), "outcomes": list(result.outcomes or ())}
    evidence = list(standing.grade.evidence) if standing.grade else []
    reason = "re-announced by the reconciler"
    if released is Outcome.PASSED:
        return [AssessmentPassed(**common, **graded, evidence=evidence)]
    withdrawals: list[Event] = [
        ResultWithdrawn(**common, reason=reason, released_outcome=Outcome.PASSED.value)
    ]
    if released is Outcome.ATTENDANCE_ONLY:
        return [
            *withdrawals,
            AttendanceOnlyCompleted(
                **common,
                sessions_attended=standing.attendance.attended,
                sessions_total=standing.attendance.sessions,
            ),
        ]
    return [
        *withdrawals,
        ResultWithdrawn(**common, reason=reason, released_outcome=Outcome.ATTENDANCE_ONLY.value),
    ]
