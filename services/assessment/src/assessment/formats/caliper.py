"""1EdTech Caliper Analytics 1.1 and 1.2: `GradeEvent`s in a sensor's envelope.

https://www.imsglobal.org/spec/caliper/v1p2. An envelope carries one or more events
or described entities; an event may name an entity by its IRI instead of embedding it,
and the entity is then looked up among those described in the same envelope, or is
known by its IRI alone. `sendTime` must be UTC as YYYY-MM-DDTHH:mm:ss.SSSZ. Events
other than GradeEvent are acknowledged and ignored. The learner is the Attempt's
assignee (its id or one of its other system identifiers, never an email address).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from assessment.domain import AssessmentError, percent
from assessment.formats import (
    Learner,
    Malformed,
    Number,
    ProviderSubject,
    Submission,
    Unacceptable,
    as_utc,
    validated,
)

SUPPORTED_VERSIONS = {
    "http://purl.imsglobal.org/ctx/caliper/v1p1",
    "http://purl.imsglobal.org/ctx/caliper/v1p2",
}
NOT_AN_IDENTIFIER = {"EmailAddress"}
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


def _iri(value: str) -> str:
    if not _IRI.match(value):
        raise ValueError("an entity referenced by its id must be an IRI")
    return value


IRI = Annotated[str, AfterValidator(_iri)]
URN_UUID = r"(?i)^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


SEND_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
"""Caliper's timestamp format, YYYY-MM-DDTHH:mm:ss.SSSZ, in UTC with no offset."""


class Envelope(BaseModel):
    sensor: str = Field(min_length=1)
    sendTime: Annotated[str, Field(pattern=SEND_TIME)]
    dataVersion: str = Field(min_length=1)
    data: list[dict[str, Any]] = Field(min_length=1)


class _Entity(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)


class SystemIdentifier(BaseModel):
    model_config = ConfigDict(extra="allow")

    identifier: str = Field(min_length=1)
    identifierType: str = Field(min_length=1)


class Person(_Entity):
    otherIdentifiers: list[SystemIdentifier] = []


class Assignable(_Entity):
    maxScore: Number | None = None


class Attempt(_Entity):
    """An assignee or assignable may be an IRI only, described nowhere in the envelope
    (Caliper 1.1 and 1.2 allow either): the IRI is then all we know of it."""

    assignee: Person | IRI | None = None
    assignable: Assignable | IRI | None = None

    @property
    def assignee_entity(self) -> Person | None:
        if isinstance(self.assignee, str):
            return Person(id=self.assignee, type="Person")
        return self.assignee

    @property
    def assignable_entity(self) -> Assignable | None:
        if isinstance(self.assignable, str):
            return Assignable(id=self.assignable, type="AssignableDigitalResource")
        return self.assignable


class Score(_Entity):
    type: Literal["Score"]
    scoreGiven: Number | None = None
    maxScore: Number | None = None
    dateCreated: datetime | None = None


class Group(_Entity):
    courseNumber: str | None = None


class GradeEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=URN_UUID)
    type: Literal["GradeEvent"]
    action: Literal["Graded"]
    actor: _Entity | IRI
    object: Attempt | IRI
    generated: Score | IRI | None = None
    eventTime: datetime
    group: Group | IRI | None = None

    @property
    def attempt(self) -> Attempt:
        if isinstance(self.object, str):
            return Attempt(id=self.object, type="Attempt")
        return self.object


def _resolve(value: Any, entities: dict[str, dict[str, Any]]) -> Any:
    """An entity named by its IRI, replaced by its description in the envelope if given."""
    if isinstance(value, str) and value in entities:
        return entities[value]
    return value


def _expanded(event: dict[str, Any], entities: dict[str, dict[str, Any]]) -> dict[str, Any]:
    expanded = {k: _resolve(v, entities) for k, v in event.items()}
    attempt = expanded.get("object")
    if isinstance(attempt, dict):
        expanded["object"] = {
            **attempt,
            **{
                k: _resolve(attempt[k], entities)
                for k in ("assignee", "assignable")
                if k in attempt
            },
        }
    return expanded


def _is_event(item: dict[str, Any]) -> bool:
    return "action" in item or str(item.get("type", "")).endswith("Event")


def _learner(event: GradeEvent) -> Learner:
    assignee = event.attempt.assignee_entity
    subjects: tuple[str, ...] = ()
    if assignee is not None:
        subjects = (
            assignee.id,
            *(
                other.identifier
                for other in assignee.otherIdentifiers
                if other.identifierType not in NOT_AN_IDENTIFIER
            ),
        )
    course_refs: tuple[str, ...] = ()
    if isinstance(event.group, str):
        course_refs = (event.group,)
    elif event.group is not None:
        course_refs = tuple(r for r in (event.group.id, event.group.courseNumber) if r)
    return Learner(
        subjects=subjects,
        course_refs=course_refs,
        provider_subjects=tuple(ProviderSubject(s, s) for s in subjects),
    )


def _submission(raw: dict[str, Any], event: GradeEvent) -> Submission | None:
    score = event.generated
    if score is None or isinstance(score, str) or score.scoreGiven is None:
        return None
    maximum = score.maxScore
    assignable_entity = event.attempt.assignable_entity
    if maximum is None and assignable_entity is not None:
        maximum = assignable_entity.maxScore
    if maximum is None:
        raise Unacceptable(
            "no-maximum-score",
            f"Event {event.id}: neither the Score nor the assignable gives maxScore.",
        )
    if maximum <= 0 or score.scoreGiven < 0:
        raise Malformed(
            "invalid-caliper-envelope",
            f"Event {event.id}: scoreGiven must be >= 0 and maxScore > 0.",
        )
    try:
        value = percent(score.scoreGiven, maximum)
    except AssessmentError as error:
        raise Unacceptable("score-out-of-range", str(error)) from error
    learner = _learner(event)
    assignable = assignable_entity.id if assignable_entity else event.attempt.id
    attempt = event.attempt.id
    return Submission(
        source="caliper",
        learner=learner,
        stream=f"{assignable}|{learner.subjects[0] if learner.subjects else '-'}",
        score=value,
        final=True,
        graded_at=as_utc(score.dateCreated or event.eventTime),
        payload=raw,
        delivery_id=event.id.lower(),
        evidence=(attempt,) if attempt.startswith(("https://", "http://")) else (),
        activity=assignable,
    )


def envelope_submissions(body: Any) -> tuple[list[Submission], list[str]]:
    """The grades in a Caliper envelope, and the ids of the events it carries.

    The whole envelope is refused if any GradeEvent in it is invalid.
    """
    envelope = validated(Envelope, body, what="Caliper envelope")
    if envelope.dataVersion not in SUPPORTED_VERSIONS:
        raise Unacceptable(
            "unsupported-data-version",
            f"dataVersion {envelope.dataVersion} is not supported; "
            f"send one of: {', '.join(sorted(SUPPORTED_VERSIONS))}.",
        )
    entities = {
        str(item["id"]): item for item in envelope.data if not _is_event(item) and "id" in item
    }
    submissions, event_ids = [], []
    for item in envelope.data:
        if not _is_event(item):
            continue
        event_ids.append(str(item.get("id", "")))
        if item.get("type") != "GradeEvent":
            continue
        event = validated(GradeEvent, _expanded(item, entities), what="Caliper envelope")
        if (submission := _submission(item, event)) is not None:
            submissions.append(submission)
    return submissions, event_ids
