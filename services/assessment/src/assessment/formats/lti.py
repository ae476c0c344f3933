"""1EdTech LTI 1.3 Assignment and Grade Services: the Score a platform posts to a line item.

https://www.imsglobal.org/spec/lti-ags/v2p0#score-publish-service. Each offering has
one line item, the micro-credential's overall result. Only `FullyGraded` with a score
is final; other progress is recorded and decides nothing. `scoreGiven` above
`scoreMaximum` is extra credit. Vendor extensions (keys that are URLs) are ignored,
except Canvas's submission URL, kept as evidence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assessment.domain import AssessmentError, percent
from assessment.formats import (
    Learner,
    Number,
    ProviderSubject,
    Submission,
    Unacceptable,
    as_utc,
    validated,
)

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
LINE_ITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"
LINE_ITEM_ACTIVITY = "lineitem"
"""The activity of a score posted to the offering's line item (its overall result)."""


class Score(BaseModel):
    model_config = ConfigDict(extra="allow")

    userId: str = Field(min_length=1)
    timestamp: datetime
    activityProgress: Literal["Initialized", "Started", "InProgress", "Submitted", "Completed"]
    gradingProgress: Literal["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"]
    scoreGiven: Number | None = None
    scoreMaximum: Number | None = None
    comment: str | None = None
    scoringUserId: str | None = None

    @model_validator(mode="after")
    def _scale(self) -> Score:
        if self.scoreMaximum is not None and self.scoreMaximum <= 0:
            raise ValueError("scoreMaximum must be greater than 0")
        if self.scoreGiven is not None:
            if self.scoreMaximum is None:
                raise ValueError("scoreMaximum is required when scoreGiven is present")
            if self.scoreGiven < 0:
                raise ValueError("scoreGiven must not be negative")
        return self


def _evidence(score: Score) -> tuple[str, ...]:
    canvas = (score.model_extra or {}).get(CANVAS_SUBMISSION)
    if isinstance(canvas, dict) and canvas.get("submission_type") == "online_url":
        url = canvas.get("submission_data")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return (url,)
    return ()


def score_submission(
    body: Any, *, offering_id: UUID, line_item: str = LINE_ITEM_ACTIVITY
) -> Submission:
    """The grade in an AGS Score posted to a line item of `offering_id`: the offering's own
    (`lineitem`, the overall result) or another the LMS names (a quiz, an assignment), whose
    score is formative unless staff declared that line item summative."""
    score = validated(Score, body, what="AGS score")
    timestamp = as_utc(score.timestamp)
    value = None
    if score.scoreGiven is not None and score.scoreMaximum is not None:
        try:
            value = percent(score.scoreGiven, score.scoreMaximum)
        except AssessmentError as error:
            raise Unacceptable("score-out-of-range", str(error)) from error
    # The offering's own line item keeps the stream and delivery ids it always had.
    scope = str(offering_id) if line_item == LINE_ITEM_ACTIVITY else f"{offering_id}|{line_item}"
    return Submission(
        source="lti-ags",
        learner=Learner(
            subjects=(score.userId,),
            offering_id=offering_id,
            provider_subjects=(ProviderSubject(score.userId, score.userId),),
        ),
        stream=f"{scope}|{score.userId}",
        score=value,
        final=score.gradingProgress == "FullyGraded" and value is not None,
        graded_at=timestamp,
        payload=body,
        delivery_id=f"{scope}|{score.userId}|{timestamp.isoformat()}",
        evidence=_evidence(score),
        refuse_stale=True,
        activity=line_item,
    )


LINE_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "scoreMaximum", "label", "resourceId", "tag", "resourceLinkId"],
    "properties": {
        "id": {"type": "string", "format": "uri"},
        "scoreMaximum": {"type": "number"},
        "label": {"type": "string"},
        "resourceId": {"type": "string"},
        "tag": {"type": "string"},
        "resourceLinkId": {"type": "string"},
    },
}


def line_item(*, url: str, offering_id: UUID, label: str, resource_id: str) -> dict[str, Any]:
    """The offering's line item: the micro-credential's overall result, out of 100."""
    return {
        "id": url,
        "scoreMaximum": 100,
        "label": label,
        "resourceId": resource_id,
        "tag": "micro-credential-result",
        "resourceLinkId": str(offering_id),
    }
