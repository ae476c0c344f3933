from decimal import Decimal

from assessment.domain import PassRule
from credstack.contracts.assessment import OutcomeResult

RULE = PassRule(pass_mark=Decimal(70), learning_outcome_ids=("LO1", "LO2"))


def shown(*ids: str) -> list[OutcomeResult]:
    return [OutcomeResult(outcome_id=i, demonstrated=True) for i in ids]


def test_a_score_at_the_pass_mark_with_every_outcome_passes() -> None:
    assert RULE.passes(Decimal(70), shown("LO1", "LO2"))


def test_a_score_just_below_the_pass_mark_fails() -> None:
    assert not RULE.passes(Decimal("69.99"), shown("LO1", "LO2"))


def test_every_learning_outcome_must_be_demonstrated() -> None:
    assert not RULE.passes(Decimal(100), shown("LO1"))
    assert RULE.undemonstrated(shown("LO1")) == ["LO2"]


def test_an_overall_grade_without_outcome_results_is_judged_on_the_score() -> None:
    assert RULE.passes(Decimal(75), None)
