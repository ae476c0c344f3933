"""Enrolment use cases: load → decide (domain) → write and stage events; never commit.

The route or the consumer that calls them owns the one transaction. Lock order,
everywhere: the learner (advisory lock), then the offering's row, then enrolment rows.
Seats are counted under the offering's row lock; a decision that frees a seat offers it
to the waitlist in the same transaction (`transitions`).
"""

from credstack.refusals import Reason
from enrolment.domain import EnrolmentError


class NotFound(EnrolmentError):
    code = "not-found"
    reason = Reason.NOT_FOUND


class ProfileRequired(EnrolmentError):
    code = "profile-required"
