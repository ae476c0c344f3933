"""Assessment use cases: load → decide (domain) → write and stage events; never commit.

The route or the consumer that calls them owns the one transaction.
"""

from assessment.domain import AssessmentError


class NotFound(AssessmentError):
    pass


class Conflict(AssessmentError):
    """The request contradicts what is already recorded (409)."""


class NotServed(AssessmentError):
    """The LMS client is not registered for the offering concerned (403)."""


class Unprocessable(AssessmentError):
    """A well-formed request that the current records cannot accept (422)."""
