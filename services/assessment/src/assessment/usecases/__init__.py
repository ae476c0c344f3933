"""Assessment use cases: load → decide (domain) → write and stage events; never commit.

The route or the consumer that calls them owns the one transaction.
"""

from assessment.domain import AssessmentError
from credstack.refusals import Reason


class NotFound(AssessmentError):
    code = "not-found"
    reason = Reason.NOT_FOUND


class Conflict(AssessmentError):
    """The request contradicts what is already recorded."""

    code = "conflict"
    reason = Reason.CONFLICT


class NotServed(AssessmentError):
    """The LMS client is not registered for the offering concerned."""

    code = "offering-not-served"
    reason = Reason.FORBIDDEN


class Unprocessable(AssessmentError):
    """A well-formed request that the current records cannot accept."""
