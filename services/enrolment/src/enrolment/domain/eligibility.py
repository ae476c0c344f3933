"""Who may enrol in what: prerequisites, language placement, academic integrity. No I/O.

The facts come from other services' events (credentials held from the issuer, placements
from assessment) and from the learner (declared language experience, a statement of prior
experience for staff, the accepted integrity declaration).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from credstack.refusals import Reason
from enrolment.domain.states import EnrolmentError


class NotEligible(EnrolmentError):
    code = "not-eligible"


class LanguageExperienceUndeclared(NotEligible):
    """The request leaves out a declaration the rules need (422)."""

    code = "language-experience-undeclared"
    reason = Reason.UNPROCESSABLE


class PlacementRequired(NotEligible):
    code = "placement-required"


class PlacementLevelMismatch(NotEligible):
    code = "placement-level-mismatch"


class NotEntryLevel(NotEligible):
    code = "not-entry-level"


class PrerequisitesNotMet(NotEligible):
    code = "prerequisites-not-met"


@dataclass(frozen=True)
class Requirements:
    """What an offering asks of a learner: its own fields and its micro-credential version's."""

    prerequisites: frozenset[UUID] = frozenset()
    language: str = "en"
    is_language_micro_credential: bool = False
    language_level: str | None = None


@dataclass(frozen=True)
class LearnerRecord:
    """What this service knows about a learner when deciding an enrolment."""

    held: frozenset[UUID] = frozenset()
    """Micro-credentials (and stacks) whose credential the learner holds in good standing."""
    placements: Mapping[str, str] = field(default_factory=dict)
    """Latest placement level per language (language tags in lower case)."""
    declaration_version: int | None = None
    previously_confirmed: bool = False
    """Whether any enrolment of theirs was confirmed before (they were inducted then)."""


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def check_language(
    requirements: Requirements,
    record: LearnerRecord,
    *,
    declared_experience: bool | None,
    entry_levels: Collection[str],
) -> None:
    """The language proficiency rule of the policy, for a language micro-credential.

    A learner who declares no previous experience of the language may enrol at an entry
    level. One with experience needs a placement (from assessment) at the offering's level.
    A learner who holds every prerequisite of a language micro-credential has shown their
    level through those credentials and needs no placement.
    """
    if not requirements.is_language_micro_credential:
        return
    level = requirements.language_level or ""
    language = requirements.language
    if declared_experience is None:
        raise LanguageExperienceUndeclared(
            f"This is a {language} language micro-credential: declare whether you have any "
            "previous experience of the language (language_experience: true or false).",
            language=language,
        )
    if not declared_experience:
        if not any(_same(level, entry) for entry in entry_levels):
            raise NotEntryLevel(
                f"Without previous experience of {language} you may enrol at the entry level "
                f"({', '.join(entry_levels)}); this offering is at level {level}.",
                language=language,
                level=level,
                entry_levels=list(entry_levels),
            )
        return
    if requirements.prerequisites and requirements.prerequisites <= record.held:
        return
    placed = record.placements.get(language.casefold())
    if placed is None:
        raise PlacementRequired(
            f"With previous experience of {language} you need a language proficiency "
            "placement before enrolling; ask the convenor to arrange one.",
            language=language,
            level=level,
        )
    if not _same(placed, level):
        raise PlacementLevelMismatch(
            f"Your {language} placement is at level {placed}; this offering is at level "
            f"{level}. Enrol in an offering at your placed level.",
            language=language,
            level=level,
            placed_level=placed,
        )


def missing_prerequisites(requirements: Requirements, record: LearnerRecord) -> frozenset[UUID]:
    return requirements.prerequisites - record.held


def check_prerequisites(
    requirements: Requirements, record: LearnerRecord, *, experience_statement: str | None
) -> bool:
    """True when the prerequisites are held; False when staff must review declared experience.

    Without a statement of prior experience, a learner missing prerequisites is refused.
    """
    missing = missing_prerequisites(requirements, record)
    if not missing:
        return True
    if experience_statement:
        return False
    raise PrerequisitesNotMet(
        "You do not hold every prerequisite micro-credential. Describe your prior experience "
        "(experience_statement) for staff to approve, or complete the prerequisites first.",
        missing_prerequisites=sorted(str(m) for m in missing),
    )


def declaration_satisfied(record: LearnerRecord, current_version: int | None) -> bool:
    """The academic-integrity rule: before their first micro-credential starts, a learner
    must have accepted the current declaration. A learner already confirmed once was
    inducted then; a later version of the text does not hold up their next enrolment.
    """
    if record.previously_confirmed:
        return True
    return current_version is not None and record.declaration_version == current_version
