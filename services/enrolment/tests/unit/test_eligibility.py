from uuid import uuid4

import pytest

from enrolment.domain.eligibility import (
    LanguageExperienceUndeclared,
    LearnerRecord,
    NotEntryLevel,
    PlacementLevelMismatch,
    PlacementRequired,
    PrerequisitesNotMet,
    Requirements,
    check_language,
    check_prerequisites,
    declaration_satisfied,
)

DATA_101, DATA_102 = uuid4(), uuid4()
JAPANESE_B1 = Requirements(is_language_micro_credential=True, language="ja", language_level="B1")
JAPANESE_A1 = Requirements(is_language_micro_credential=True, language="ja", language_level="A1")


def language(requirements: Requirements, record: LearnerRecord, experience: bool | None) -> None:
    check_language(
        requirements, record, declared_experience=experience, entry_levels=("A1", "Pre-A1")
    )


def test_prerequisites_held_make_a_learner_eligible() -> None:
    record = LearnerRecord(held=frozenset({DATA_101, DATA_102}))
    requirements = Requirements(prerequisites=frozenset({DATA_101}))
    assert check_prerequisites(requirements, record, experience_statement=None) is True


def test_missing_prerequisites_are_refused_and_named() -> None:
    requirements = Requirements(prerequisites=frozenset({DATA_101, DATA_102}))
    with pytest.raises(PrerequisitesNotMet) as refused:
        check_prerequisites(
            requirements, LearnerRecord(held=frozenset({DATA_101})), experience_statement=None
        )
    assert refused.value.facts["missing_prerequisites"] == [str(DATA_102)]


def test_declared_experience_in_place_of_prerequisites_goes_to_staff() -> None:
    requirements = Requirements(prerequisites=frozenset({DATA_101}))
    assert (
        check_prerequisites(
            requirements, LearnerRecord(), experience_statement="Five years as a data analyst"
        )
        is False
    )


def test_a_language_micro_credential_needs_the_learner_to_declare_their_experience() -> None:
    with pytest.raises(LanguageExperienceUndeclared):
        language(JAPANESE_A1, LearnerRecord(), None)


def test_a_learner_without_experience_may_enrol_at_the_entry_level_only() -> None:
    language(JAPANESE_A1, LearnerRecord(), False)
    language(
        Requirements(is_language_micro_credential=True, language="ja", language_level="pre-a1"),
        LearnerRecord(),
        False,
    )
    with pytest.raises(NotEntryLevel):
        language(JAPANESE_B1, LearnerRecord(), False)


def test_a_learner_with_experience_needs_a_placement_at_the_offerings_level() -> None:
    with pytest.raises(PlacementRequired):
        language(JAPANESE_B1, LearnerRecord(), True)
    with pytest.raises(PlacementRequired):
        language(JAPANESE_A1, LearnerRecord(placements={"fr": "A1"}), True)
    with pytest.raises(PlacementLevelMismatch) as mismatch:
        language(JAPANESE_B1, LearnerRecord(placements={"ja": "A2"}), True)
    assert mismatch.value.facts["placed_level"] == "A2"
    language(JAPANESE_B1, LearnerRecord(placements={"ja": "b1"}), True)


def test_holding_the_prerequisites_of_a_language_micro_credential_shows_the_level() -> None:
    requirements = Requirements(
        is_language_micro_credential=True,
        language="ja",
        language_level="A2",
        prerequisites=frozenset({DATA_101}),
    )
    language(requirements, LearnerRecord(held=frozenset({DATA_101})), True)


def test_other_micro_credentials_have_no_language_rule() -> None:
    language(Requirements(language="fr"), LearnerRecord(), None)


def test_the_integrity_declaration_must_be_the_current_version_before_a_first_enrolment() -> None:
    assert declaration_satisfied(LearnerRecord(declaration_version=2), 2)
    assert not declaration_satisfied(LearnerRecord(declaration_version=1), 2)
    assert not declaration_satisfied(LearnerRecord(), 1)
    assert not declaration_satisfied(LearnerRecord(declaration_version=1), None)


def test_a_learner_inducted_once_need_not_accept_a_later_version_again() -> None:
    assert declaration_satisfied(LearnerRecord(declaration_version=1, previously_confirmed=True), 2)
