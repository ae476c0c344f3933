"""Moodle: the `\\core\\event\\user_graded` and `\\mod_assign\\event\\submission_graded`
webhook notifications and the grades they point to.

The notification (as Moodle's webhook plugins post it: JSON, or form-encoded with PHP's
bracket notation for `other[...]`) says that a learner was graded in a course; the grade
itself is then fetched with the web service `gradereport_user_get_grade_items`, whose
course total item is the micro-credential's overall result. A grade hidden from the
learner in Moodle, or awaiting recalculation, is not final.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field

from assessment.domain import AssessmentError, percent
from assessment.formats import Learner, Malformed, Number, Submission, Unacceptable, validated

USER_GRADED = "\\core\\event\\user_graded"
ASSIGNMENT_GRADED = "\\mod_assign\\event\\submission_graded"
GRADING_EVENTS = frozenset({USER_GRADED, ASSIGNMENT_GRADED})
"""Notifications that a learner was graded: the gradebook's own, and the assignment
module's (a teacher graded a submission), each answered by fetching the grades."""
COURSE_TOTAL = "course"
"""The activity of the course total, a Moodle course's overall result."""
GRADE_ITEMS_FUNCTION = "gradereport_user_get_grade_items"


def form_fields(body: bytes) -> dict[str, Any]:
    """A form-encoded body as nested fields: `other[finalgrade]=42` → {"other": {...}}."""
    fields: dict[str, Any] = {}
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError as error:
        raise Malformed("malformed-form", "The form is not UTF-8.") from error
    for key, value in pairs:
        name, *path = re.findall(r"[^\[\]]+", key) or [key]
        target = fields
        for part in [name, *path][:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise Malformed("malformed-form", f"Field {key!r} clashes with another.")
        target[[name, *path][-1]] = value
    return fields


class Notification(BaseModel):
    """What every Moodle event notification carries: its name and the shared token."""

    model_config = ConfigDict(extra="allow")

    eventname: str = Field(min_length=1)
    token: str | None = None


class _GradedOther(BaseModel):
    model_config = ConfigDict(extra="allow")

    itemid: int | None = None
    finalgrade: Number | None = None


class UserGraded(BaseModel):
    model_config = ConfigDict(extra="allow")

    courseid: int
    relateduserid: int
    objectid: int | None = None
    timecreated: int
    other: _GradedOther = _GradedOther()


@dataclass(frozen=True)
class GradedUser:
    """A learner graded in a Moodle course: what to fetch, and this notification's id."""

    course_id: int
    user_id: int
    item_id: int | None
    notified_at: datetime
    delivery_id: str


def graded_user(data: dict[str, Any]) -> GradedUser:
    """The learner and course a `user_graded` notification is about (422 if it lacks them)."""
    if data.get("relateduserid") in (None, ""):
        raise Unacceptable(
            "no-learner", "The grading notification names no learner (relateduserid)."
        )
    other = data.get("other")
    if isinstance(other, dict) and other.get("finalgrade") not in (None, ""):
        grade = other["finalgrade"]
        if isinstance(grade, str):
            with contextlib.suppress(ArithmeticError):
                other = {**other, "finalgrade": Decimal(grade)}
    try:
        event = UserGraded.model_validate({**data, "other": other or {}})
    except ValueError as error:
        raise Unacceptable(
            "invalid-moodle-notification",
            "The user_graded notification cannot be acted on: other.finalgrade must be a "
            "number or null, courseid, relateduserid and timecreated integers.",
            errors=[{"message": str(error)}],
        ) from error
    return GradedUser(
        course_id=event.courseid,
        user_id=event.relateduserid,
        item_id=event.other.itemid,
        notified_at=datetime.fromtimestamp(event.timecreated, UTC),
        delivery_id=f"{event.objectid}|{event.timecreated}|{event.relateduserid}",
    )


def notification(body: Any) -> Notification:
    return validated(Notification, body, what="Moodle notification")


class MoodleError(Exception):
    """Moodle's web service answered with an error or with something we cannot read."""


class _GradeItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int | None = None
    itemtype: str
    graderaw: Decimal | None = None
    grademin: Decimal
    grademax: Decimal
    gradedategraded: int | None = None
    gradeishidden: bool = False
    gradeneedsupdate: bool = False


class _UserGrades(BaseModel):
    model_config = ConfigDict(extra="allow")

    courseid: int
    courseidnumber: str | None = None
    userid: int
    gradeitems: list[_GradeItem]


class _GradeReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    usergrades: list[_UserGrades]


def course_total(response: Any, graded: GradedUser) -> Submission:
    """The learner's course total in a `gradereport_user_get_grade_items` response."""
    return grades(response, graded)[0]


def grades(response: Any, graded: GradedUser) -> list[Submission]:
    """The learner's course total (activity `course`) in a
    `gradereport_user_get_grade_items` response, then the grade of the item the
    notification named (activity: its grade item id) if it has one."""
    if isinstance(response, dict) and "exception" in response:
        raise MoodleError(
            f"Moodle refused {GRADE_ITEMS_FUNCTION}: {response.get('errorcode')}: "
            f"{response.get('message')}"
        )
    try:
        report = _GradeReport.model_validate(response)
    except ValueError as error:
        raise MoodleError(f"Unreadable {GRADE_ITEMS_FUNCTION} response: {error}") from error
    learner = next(
        (
            u
            for u in report.usergrades
            if u.userid == graded.user_id and u.courseid == graded.course_id
        ),
        None,
    )
    total = next(
        (i for i in (learner.gradeitems if learner else []) if i.itemtype == "course"), None
    )
    if learner is None or total is None:
        raise MoodleError(
            f"Moodle returned no course total for user {graded.user_id} "
            f"in course {graded.course_id}."
        )
    if total.grademax <= total.grademin:
        raise MoodleError(f"The course total's range {total.grademin}-{total.grademax} is empty.")
    course_refs = (
        str(learner.courseid),
        *([learner.courseidnumber] if learner.courseidnumber else []),
    )
    found = [_item_grade(total, graded, course_refs, COURSE_TOTAL)]
    item = next(
        (
            i
            for i in learner.gradeitems
            if graded.item_id is not None and i.id == graded.item_id and i.itemtype != "course"
        ),
        None,
    )
    if item is not None and item.grademax > item.grademin:
        found.append(_item_grade(item, graded, course_refs, str(item.id)))
    return found


def _item_grade(
    item: _GradeItem, graded: GradedUser, course_refs: tuple[str, ...], activity: str
) -> Submission:
    score = None
    if item.graderaw is not None:
        try:
            score = percent(item.graderaw, item.grademax, item.grademin)
        except AssessmentError as error:
            raise MoodleError(str(error)) from error
    graded_at = (
        datetime.fromtimestamp(item.gradedategraded, UTC)
        if item.gradedategraded
        else graded.notified_at
    )
    stream = f"{graded.course_id}|{graded.user_id}"
    return Submission(
        source="moodle",
        learner=Learner(subjects=(str(graded.user_id),), course_refs=course_refs),
        stream=stream if activity == COURSE_TOTAL else f"{stream}|{activity}",
        score=score,
        final=score is not None and not (item.gradeishidden or item.gradeneedsupdate),
        graded_at=graded_at,
        payload={
            "courseid": graded.course_id,
            "userid": graded.user_id,
            "course_total" if activity == COURSE_TOTAL else "grade_item": item.model_dump(
                mode="json"
            ),
        },
        activity=activity,
    )
