"""The assessment rules, without a server: pass, attendance only, fail; release; moderation;
integrity holds; withdrawal of a released credential."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from assessment.domain import (
    Attendance,
    CaseAlreadyOpen,
    ConfirmedEnrolment,
    Grade,
    Integrity,
    Moderation,
    ModerationAction,
    Outcome,
    PassRule,
    Result,
    ResultClosed,
    ScoreOutOfRange,
    Standing,
    decide,
    moderate,
    open_case,
    percent,
)
from credstack.contracts.assessment import OutcomeResult

AT = datetime(2025, 3, 20, tzinfo=UTC)
RULE = PassRule(pass_mark=Decimal(70), learning_outcome_ids=("LO1", "LO2"))
ENROLMENT = ConfirmedEnrolment(uuid4(), uuid4(), uuid4(), 2)
NONE_ATTENDED = Attendance(attended=0, sessions=5)


def shown(*ids: str) -> tuple[OutcomeResult, ...]:
    return tuple(OutcomeResult(outcome_id=i, demonstrated=True) for i in ids)


def graded(
    score: str, *, final: bool = True, outcomes: tuple[OutcomeResult, ...] | None = None
) -> Grade:
    return Grade(
        score=Decimal(score), outcomes=outcomes, final=final, evidence=("https://e/1",), id=7
    )


def standing(grade: Grade | None = None, **changes: object) -> Standing:
    base = Standing(
        enrolment=ENROLMENT,
        rule=RULE,
        grade=grade,
        moderation=None,
        attendance=NONE_ATTENDED,
        integrity=Integrity(),
        result=Result(),
    )
    return replace(base, **changes)


def names(events: list[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def then(previous: Standing) -> Standing:
    """The same standing after its decision was saved."""
    return replace(previous, result=decide(previous, at=AT).result)


def test_a_score_at_the_pass_mark_with_every_outcome_passes() -> None:
    assert RULE.passes(Decimal(70), shown("LO1", "LO2"))


def test_a_score_just_below_the_pass_mark_fails() -> None:
    assert not RULE.passes(Decimal("69.999"), shown("LO1", "LO2"))


def test_every_learning_outcome_must_be_demonstrated() -> None:
    assert not RULE.passes(Decimal(100), shown("LO1"))
    assert RULE.undemonstrated(shown("LO1")) == ["LO2"]


def test_an_overall_grade_without_outcome_results_is_judged_on_the_score() -> None:
    assert RULE.passes(Decimal(75), None)


def test_scores_are_truncated_never_rounded_up_to_the_pass_mark() -> None:
    assert percent(Decimal("69.9999"), Decimal(100)) == Decimal("69.999")
    assert percent(Decimal(42), Decimal(50)) == Decimal("84.000")
    assert percent(Decimal(52), Decimal(50)) == Decimal("104.000")
    assert percent(Decimal(20), Decimal(50), Decimal(10)) == Decimal("25.000")
    with pytest.raises(ScoreOutOfRange):
        percent(Decimal(10) ** 9, Decimal(1))


def test_a_final_passing_grade_releases_a_pass_with_its_evidence() -> None:
    decision = decide(standing(graded("84", outcomes=shown("LO1", "LO2"))), at=AT)
    (passed,) = decision.events
    assert names(decision.events) == ["AssessmentPassed"]
    assert passed.score == Decimal(84)
    assert passed.evidence == ["https://e/1"]
    assert passed.micro_credential_version == 2
    assert decision.result.released is Outcome.PASSED


def test_a_failing_grade_without_attendance_fails() -> None:
    assert names(decide(standing(graded("40")), at=AT).events) == ["AssessmentFailed"]


def test_attending_but_not_passing_earns_attendance_only() -> None:
    decision = decide(standing(graded("40"), attendance=Attendance(4, 5)), at=AT)
    (attended,) = decision.events
    assert names(decision.events) == ["AttendanceOnlyCompleted"]
    assert (attended.sessions_attended, attended.sessions_total) == (4, 5)


def test_attendance_needs_the_required_share_of_contact_sessions() -> None:
    assert Attendance(4, 5).completed(Decimal("0.8"))
    assert not Attendance(3, 5).completed(Decimal("0.8"))
    assert Attendance(1, 1).completed(Decimal("0.8"))
    assert not Attendance(0, 0).completed(Decimal("0.8"))


def test_a_pass_wins_over_attendance() -> None:
    assert names(decide(standing(graded("90"), attendance=Attendance(5, 5)), at=AT).events) == [
        "AssessmentPassed"
    ]


def test_a_non_final_grade_decides_nothing() -> None:
    decision = decide(standing(graded("95", final=False)), at=AT)
    assert decision.events == []
    assert decision.result == Result()


def test_deciding_the_same_standing_again_sends_nothing_new() -> None:
    first = standing(graded("84"))
    assert names(decide(first, at=AT).events) == ["AssessmentPassed"]
    assert decide(then(first), at=AT).events == []


def test_a_regrade_after_release_that_turns_a_pass_into_a_fail_withdraws_it() -> None:
    released = then(standing(graded("84")))
    decision = decide(replace(released, grade=graded("50")), at=AT)
    withdrawn = decision.events[0]
    assert names(decision.events) == ["ResultWithdrawn", "AssessmentFailed"]
    assert withdrawn.released_outcome == "passed"
    assert withdrawn.reason == "graded 50% by the LMS"


def test_a_pass_turned_into_attendance_only_withdraws_the_pass_and_certifies_attendance() -> None:
    released = then(standing(graded("84"), attendance=Attendance(5, 5)))
    decision = decide(replace(released, grade=graded("50")), at=AT)
    assert names(decision.events) == ["ResultWithdrawn", "AttendanceOnlyCompleted"]


def test_a_pass_after_attendance_only_keeps_the_attendance_certificate() -> None:
    released = then(standing(graded("50"), attendance=Attendance(5, 5)))
    assert names(decide(replace(released, grade=graded("80")), at=AT).events) == [
        "AssessmentPassed"
    ]


def test_attendance_corrected_below_the_share_withdraws_the_attendance_certificate() -> None:
    released = then(standing(graded("50"), attendance=Attendance(5, 5)))
    decision = decide(replace(released, attendance=Attendance(2, 5)), at=AT)
    assert names(decision.events) == ["ResultWithdrawn", "AssessmentFailed"]
    assert decision.events[0].released_outcome == "attendance_only"


def test_a_fail_turned_into_a_pass_releases_the_pass() -> None:
    released = then(standing(graded("50")))
    assert names(decide(replace(released, grade=graded("75")), at=AT).events) == [
        "AssessmentPassed"
    ]


def test_an_open_integrity_case_holds_a_pass_back() -> None:
    decision = decide(standing(graded("90"), integrity=Integrity(open=True)), at=AT)
    assert decision.events == []
    assert decision.result.held is True
    assert decision.result.outcome is Outcome.PASSED
    assert decision.result.released is None


def test_a_case_opened_after_release_leaves_the_released_pass_until_its_finding() -> None:
    released = then(standing(graded("90")))
    decision = decide(replace(released, integrity=Integrity(open=True)), at=AT)
    assert decision.events == []
    assert (decision.result.released, decision.result.held) == (Outcome.PASSED, False)


def test_an_open_integrity_case_does_not_hold_back_a_fail() -> None:
    decision = decide(standing(graded("40"), integrity=Integrity(open=True)), at=AT)
    assert names(decision.events) == ["AssessmentFailed"]


def test_a_cleared_case_releases_the_held_pass() -> None:
    held = then(standing(graded("90"), integrity=Integrity(open=True)))
    decision = decide(replace(held, integrity=Integrity()), at=AT)
    assert names(decision.events) == ["AssessmentPassed"]
    assert decision.result.held is False


def test_misconduct_withdraws_a_released_pass_for_good() -> None:
    released = then(standing(graded("90")))
    found = replace(released, integrity=Integrity(misconduct="copied the brief"))
    decision = decide(found, at=AT)
    (withdrawn,) = decision.events
    assert names(decision.events) == ["ResultWithdrawn"]
    assert "copied the brief" in withdrawn.reason
    assert decision.result.outcome is Outcome.WITHDRAWN
    closed = replace(found, result=decision.result, integrity=Integrity(), grade=graded("99"))
    assert decide(closed, at=AT).events == []


def test_misconduct_before_anything_was_released_withdraws_silently() -> None:
    decision = decide(
        standing(graded("90"), integrity=Integrity(misconduct="ghost-written")), at=AT
    )
    assert decision.events == []
    assert decision.result.outcome is Outcome.WITHDRAWN


def test_a_staff_regrade_stands_over_the_lms_grade() -> None:
    regrade = Moderation(ModerationAction.REGRADE, "second marking", score=Decimal(72))
    decision = decide(standing(graded("40"), moderation=regrade), at=AT)
    assert names(decision.events) == ["AssessmentPassed"]
    assert decision.result.score == Decimal(72)


def test_a_staff_override_sets_the_outcome_whatever_the_grade() -> None:
    override = Moderation(
        ModerationAction.OVERRIDE, "special consideration", outcome=Outcome.PASSED
    )
    assert names(decide(standing(graded("40"), moderation=override), at=AT).events) == [
        "AssessmentPassed"
    ]


def test_an_override_without_any_grade_fails_with_a_zero() -> None:
    override = Moderation(ModerationAction.OVERRIDE, "no submission", outcome=Outcome.FAILED)
    (failed,) = decide(standing(None, moderation=override), at=AT).events
    assert failed.score == Decimal(0)


def test_moderation_is_refused_once_misconduct_withdrew_the_result() -> None:
    with pytest.raises(ResultClosed):
        moderate(Result(outcome=Outcome.WITHDRAWN))


def test_only_one_integrity_case_is_open_at_a_time() -> None:
    with pytest.raises(CaseAlreadyOpen):
        open_case(Integrity(open=True), Result())
    with pytest.raises(ResultClosed):
        open_case(Integrity(misconduct="x"), Result(outcome=Outcome.WITHDRAWN))


def sequences(events: list[object]) -> list[int]:
    return [e.sequence for e in events]  # type: ignore[attr-defined]


def test_every_decision_announced_takes_the_enrolments_next_sequence() -> None:
    first = standing(graded("84"))
    assert sequences(decide(first, at=AT).events) == [1]
    released = then(first)
    assert released.result.sequence == 1
    assert decide(released, at=AT).result.sequence == 1  # nothing new, nothing counted

    regraded = replace(released, grade=graded("50"))
    decision = decide(regraded, at=AT)
    assert names(decision.events) == ["ResultWithdrawn", "AssessmentFailed"]
    assert sequences(decision.events) == [2, 3]
    failed = replace(regraded, result=decision.result)
    assert failed.result.sequence == 3

    repassed = decide(replace(failed, grade=graded("90")), at=AT)
    assert names(repassed.events) == ["AssessmentPassed"]
    assert sequences(repassed.events) == [4] and repassed.result.sequence == 4


def test_misconduct_after_a_pass_withdraws_with_the_next_sequence() -> None:
    released = then(standing(graded("84")))
    decision = decide(replace(released, integrity=Integrity(misconduct="copied")), at=AT)
    assert names(decision.events) == ["ResultWithdrawn"]
    assert sequences(decision.events) == [2] and decision.result.sequence == 2
