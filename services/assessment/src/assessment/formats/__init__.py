"""The grade formats LMS integrations send, parsed into `Submission`s. No I/O here.

Each module reads one wire format (native JSON, LTI AGS Score, Caliper, xAPI, Moodle)
and either returns the grades it carries or raises a `Rejected` refusal: `Malformed` for
a body that breaks its specification, `WrongMediaType`, or `Unacceptable` for a
well-formed body we cannot act on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ValidationError

from credstack.contracts.assessment import OutcomeResult
from credstack.numbers import json_number
from credstack.refusals import Reason, Refusal


class Rejected(Refusal):
    """A submission refused as a whole; nothing of it is recorded. `code` names what is
    wrong in the format's terms; `errors` locates each place that breaks its specification."""

    def __init__(
        self, code: str, detail: str, *, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail, errors=errors or [])
        self.code = code
        self.errors = errors or []


class Malformed(Rejected):
    """The body breaks its format's specification."""

    reason = Reason.MALFORMED


class Unacceptable(Rejected):
    """A well-formed body we cannot act on."""

    reason = Reason.UNPROCESSABLE


class WrongMediaType(Rejected):
    reason = Reason.UNSUPPORTED_MEDIA_TYPE


@dataclass(frozen=True)
class ProviderSubject:
    """One of the learner's identifiers (as roster links hold it) and the identity
    provider's subject it carries, if the LMS signs learners in with that provider: the
    same for an LTI `userId` or a Caliper assignee, the account name of an xAPI
    `homePage|name`. Never an email address."""

    identifier: str
    subject: str


@dataclass(frozen=True)
class Learner:
    """Whom a grade is about, in the integration's own terms (never by email).

    Either the integration names our enrolment (native form only) or it gives its own
    identifiers of the learner (`subjects`: LTI `userId`, Caliper actor or assignee IRI,
    xAPI actor account or mbox, Moodle user id), which roster links map to enrolments. `offering_id`
    and `course_refs` (the LMS course, matched against an offering's `lms_course_ref`)
    narrow the search when a learner has enrolments in several offerings.
    `provider_subjects` are the identifiers that may be the identity provider's subject
    (used only for a client whose learner ids are the identity provider's).
    """

    enrolment_id: UUID | None = None
    subjects: tuple[str, ...] = ()
    offering_id: UUID | None = None
    course_refs: tuple[str, ...] = ()
    provider_subjects: tuple[ProviderSubject, ...] = ()


@dataclass(frozen=True)
class Submission:
    """One grade as an integration sent it, normalised to a percentage.

    `delivery_id` is the format's own id of this grade (Caliper event id, xAPI statement
    id, the AGS user, line item and timestamp); a second delivery with the same id is the
    same grade. `stream` names what is graded for whom in the integration's terms: grades
    in one stream supersede each other, and with `refuse_stale` (AGS) a grade not newer
    than the stream's latest is refused. `score` is None for a progress-only update.
    `activity` is the LMS's id of what was graded (LTI line item, Caliper assignable,
    xAPI object id, Moodle grade item): only the activity declared summative decides.
    """

    source: str
    learner: Learner
    stream: str
    score: Decimal | None
    final: bool
    graded_at: datetime | None
    payload: Any
    delivery_id: str | None = None
    outcomes: tuple[OutcomeResult, ...] | None = None
    evidence: tuple[str, ...] = ()
    refuse_stale: bool = False
    activity: str | None = None
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        canonical = json.dumps(self.payload, sort_keys=True, default=str, separators=(",", ":"))
        object.__setattr__(self, "fingerprint", hashlib.sha256(canonical.encode()).hexdigest())


M = TypeVar("M", bound=BaseModel)


def as_utc(moment: datetime) -> datetime:
    """A sender's timestamp; one without a UTC offset is taken to be in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(body: bytes) -> Any:
    """The JSON document in `body`, with every number as an exact Decimal or int."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as error:
        raise Malformed("malformed-json", f"The body is not valid JSON: {error}") from error


def jsonable(value: Any) -> Any:
    """A document from `load_json` as plain JSON values (for storing it as JSONB)."""
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def _json_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a JSON number")
    return Decimal(str(value)) if isinstance(value, float) else value


Number = Annotated[Decimal, BeforeValidator(_json_number)]
"""A JSON number: a numeric string ("42") is refused, as the specifications require."""


def validated(model: type[M], data: Any, *, what: str) -> M:
    """`data` as `model`, or a 400 naming each place that breaks the specification."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Malformed(
            "invalid-" + what.lower().replace(" ", "-"),
            f"The {what} does not satisfy its specification.",
            errors=[
                {"location": list(e["loc"]), "message": e["msg"], "type": e["type"]}
                for e in error.errors()
            ],
        ) from error
