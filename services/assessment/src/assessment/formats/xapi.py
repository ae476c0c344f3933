"""xAPI 1.0.3 statements, one or a batch, as an LRS's statement resource receives them.

https://github.com/adlnet/xAPI-Spec/blob/master/xAPI-Data.md. A statement with the verb
passed, failed, scored or completed and a score is a final grade; any other valid
statement is acknowledged and changes nothing. The learner is the actor, by its account
(home page and name), mbox, mbox_sha1sum or openid, linked to an enrolment by a roster
link; `context.registration` is the LMS's or LRS's own attempt id, never our enrolment.
The graded activity is the statement's object id.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

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

VERSION_HEADER = "X-Experience-API-Version"
VERSION = "1.0.3"
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
GRADE_VERBS = {f"{ADL_VERBS}{verb}" for verb in ("passed", "failed", "scored", "completed")}
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


def _iri(value: str) -> str:
    if not _IRI.match(value):
        raise ValueError("must be an IRI (an absolute URI such as http://...)")
    return value


IRI = Annotated[str, AfterValidator(_iri)]

_DURATION = re.compile(
    r"^P(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)


def _duration(value: str) -> str:
    if not _DURATION.match(value) or value in ("P", "PT") or value.endswith("T"):
        raise ValueError("must be an ISO 8601 duration such as PT38M16S")
    return value


Duration = Annotated[str, AfterValidator(_duration)]


class Account(BaseModel):
    homePage: IRI
    name: str = Field(min_length=1)


class Actor(BaseModel):
    """An Agent (exactly one identifier) or a Group (identified, or listing members)."""

    model_config = ConfigDict(extra="allow")

    objectType: Literal["Agent", "Group"] = "Agent"
    name: str | None = None
    mbox: str | None = Field(default=None, pattern=r"^mailto:.+")
    mbox_sha1sum: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{40}$")
    openid: str | None = None
    account: Account | None = None
    member: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _identified(self) -> Actor:
        identifiers = [self.mbox, self.mbox_sha1sum, self.openid, self.account]
        given = sum(i is not None for i in identifiers)
        if given > 1:
            raise ValueError("an actor has at most one identifier (mbox, openid, account...)")
        if given == 0 and not (self.objectType == "Group" and self.member):
            raise ValueError("an Agent needs exactly one identifier; an anonymous Group members")
        return self

    @property
    def subject(self) -> str | None:
        """The actor's identifier for roster links: `homePage|name` for an account, else
        the mbox IRI (`mailto:...`), its SHA-1 or the openid, as the statement gives it."""
        if self.account is not None:
            return f"{self.account.homePage}|{self.account.name}"
        return self.mbox or self.mbox_sha1sum or self.openid


class Verb(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: IRI
    display: dict[str, str] | None = None


class StatementObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    objectType: Literal["Activity", "Agent", "Group", "StatementRef", "SubStatement"] = "Activity"
    id: str | None = None

    @model_validator(mode="after")
    def _activity_id(self) -> StatementObject:
        if self.objectType in ("Activity", "StatementRef") and self.id is None:
            raise ValueError(f"an {self.objectType} object needs an id")
        if self.objectType == "Activity" and self.id is not None:
            _iri(self.id)
        return self


class Score(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scaled: Number | None = Field(default=None, ge=-1, le=1)
    raw: Number | None = None
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _range(self) -> Score:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("min must be less than max")
        if self.raw is not None:
            if self.min is not None and self.raw < self.min:
                raise ValueError("raw must not be below min")
            if self.max is not None and self.raw > self.max:
                raise ValueError("raw must not be above max")
        return self


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: Score | None = None
    success: bool | None = None
    completion: bool | None = None
    response: str | None = None
    duration: Duration | None = None
    extensions: dict[str, Any] | None = None


class ContextActivities(BaseModel):
    model_config = ConfigDict(extra="allow")

    parent: list[StatementObject] | StatementObject | None = None
    grouping: list[StatementObject] | StatementObject | None = None

    def ids(self) -> tuple[str, ...]:
        found: list[str] = []
        for group in (self.parent, self.grouping):
            items = group if isinstance(group, list) else [group] if group else []
            found += [i.id for i in items if i.id]
        return tuple(found)


class Context(BaseModel):
    model_config = ConfigDict(extra="allow")

    registration: UUID | None = None  # the LMS's or LRS's attempt id, not our enrolment id
    contextActivities: ContextActivities | None = None


class Statement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID | None = None
    actor: Actor
    verb: Verb
    object: StatementObject
    result: Result | None = None
    context: Context | None = None
    timestamp: datetime | None = None
    stored: datetime | None = None
    authority: dict[str, Any] | None = None
    version: str | None = Field(default=None, pattern=r"^1\.0(\.\d+)?$")
    attachments: list[dict[str, Any]] | None = None


def check_version(header: str | None) -> None:
    """An LRS must refuse a request without a 1.0.x `X-Experience-API-Version`."""
    if header is None:
        raise Malformed("missing-xapi-version", f"The {VERSION_HEADER} header is required.")
    if not re.fullmatch(r"1\.0(\.\d+)?", header.strip()):
        raise Malformed(
            "unsupported-xapi-version",
            f"{VERSION_HEADER} {header!r} is not supported; this LRS speaks {VERSION}.",
        )


def _scaled(score: Score) -> Any:
    if score.scaled is not None:
        return percent(score.scaled, Decimal(1))
    if score.raw is not None and score.min is not None and score.max is not None:
        return percent(score.raw, score.max, score.min)
    return None


def _submission(raw: dict[str, Any], statement: Statement, received_at: datetime) -> Submission:
    assert statement.id is not None
    score = statement.result.score if statement.result else None
    try:
        value = _scaled(score) if score and statement.verb.id in GRADE_VERBS else None
    except AssessmentError as error:
        raise Unacceptable("score-out-of-range", str(error)) from error
    subject = statement.actor.subject
    context = statement.context.contextActivities if statement.context else None
    return Submission(
        source="xapi",
        learner=Learner(
            subjects=(subject,) if subject else (),
            course_refs=context.ids() if context else (),
            provider_subjects=(ProviderSubject(subject, statement.actor.account.name),)
            if subject and statement.actor.account
            else (),
        ),
        stream=f"{subject or '-'}|{statement.object.id}",
        activity=statement.object.id,
        score=value,
        final=value is not None,
        graded_at=as_utc(statement.timestamp or received_at),
        payload=raw,
        delivery_id=str(statement.id),
    )


def statements(
    body: Any, *, statement_id: UUID | None = None, received_at: datetime
) -> tuple[list[Submission], list[UUID]]:
    """The grades among the statements in `body`, and every statement's id.

    Statements without an id get one, as an LRS assigns it. The whole batch is refused
    if any statement is invalid or two share an id.
    """
    items = body if isinstance(body, list) else [body]
    if not items:
        raise Malformed("invalid-xapi-statement", "The batch holds no statement.")
    if statement_id is not None and (len(items) != 1 or not isinstance(items[0], dict)):
        raise Malformed("invalid-xapi-statement", "A PUT carries exactly one statement.")
    parsed: list[tuple[dict[str, Any], Statement]] = []
    for item in items:
        if statement_id is not None:
            if "id" in item and str(item["id"]).lower() != str(statement_id):
                raise Malformed(
                    "invalid-xapi-statement",
                    "The statement's id differs from the statementId parameter.",
                )
            item = {**item, "id": str(statement_id)}
        statement = validated(Statement, item, what="xAPI statement")
        if statement.id is None:
            statement = statement.model_copy(update={"id": uuid4()})
            item = {**item, "id": str(statement.id)}
        parsed.append((item, statement))
    ids = [statement.id for _, statement in parsed if statement.id is not None]
    if len(set(ids)) != len(ids):
        raise Malformed("invalid-xapi-statement", "Two statements in the batch share an id.")
    grades = [_submission(raw, statement, received_at) for raw, statement in parsed]
    return [g for g in grades if g.score is not None], ids
