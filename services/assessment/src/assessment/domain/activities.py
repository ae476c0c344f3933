"""Which LMS activity's score decides a result (summative) and which never does (formative)."""

from __future__ import annotations

OVERALL_RESULTS = {"native": None, "lti-ags": "lineitem", "moodle": "course"}
"""Formats whose own overall result is the summative assessment unless staff declare
another activity: the native grade, the offering's AGS line item, Moodle's course total."""


def role(source: str, activity: str | None, declared_summative: frozenset[str]) -> str | None:
    """Why a grade is formative (it then never decides), or None if it is summative.

    When staff declared the summative activity for the client and offering, only grades
    of that activity are summative. Otherwise the format's overall result is (see
    `OVERALL_RESULTS`); xAPI and Caliper send scores for every activity, so without a
    declaration none of theirs decides.
    """
    if declared_summative:
        if activity in declared_summative:
            return None
        return f"formative: {activity} is not the declared summative assessment"
    if source in OVERALL_RESULTS:
        if activity == OVERALL_RESULTS[source]:
            return None
        return f"formative: {activity} is not the course's overall result"
    return "formative: no summative activity is declared for this client and offering"
