"""Rosters an LMS gives us: a CSV export, or an LTI Names and Role Provisioning Services
membership container. No I/O here.

Each row pairs the LMS's identifier of a learner (the `subject` its grades carry) with
ours: the Credstack learner id or enrolment id. NRPS members carry ours as
`lis_person_sourcedid` (the SIS id, when the LMS is provisioned from Credstack); instructors
and inactive members are left out. Email addresses are never used to match.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from assessment.formats import Malformed, validated

NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER_ROLES = {
    "Learner",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Learner",
}
MAX_ROWS = 5000


@dataclass(frozen=True)
class RosterRow:
    """One line: the LMS's subject, and our learner id or enrolment id for it."""

    line: int
    subject: str
    ours: UUID | None
    problem: str | None = None


def _ours(value: str) -> UUID | None:
    try:
        return UUID(value.strip())
    except ValueError:
        return None


def csv_rows(body: bytes) -> list[RosterRow]:
    """A CSV with a header naming `subject` and `learner_id` or `enrolment_id`."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Malformed("malformed-csv", "The roster is not UTF-8.") from error
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or [])
    key = next((c for c in ("learner_id", "enrolment_id") if c in columns), None)
    if "subject" not in columns or key is None:
        raise Malformed(
            "malformed-csv",
            "The roster's header must name `subject` and `learner_id` or `enrolment_id`.",
        )
    rows: list[RosterRow] = []
    for number, record in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise Malformed("malformed-csv", f"A roster holds at most {MAX_ROWS} rows.")
        subject = (record.get("subject") or "").strip()
        ours = _ours(record.get(key) or "")
        problem = None
        if not subject:
            problem = "no subject"
        elif ours is None:
            problem = f"{key} is not a UUID"
        rows.append(RosterRow(number, subject, ours, problem))
    return rows


class _Member(BaseModel):
    model_config = ConfigDict(extra="allow")

    user_id: str = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    status: str = "Active"
    lis_person_sourcedid: str | None = None


class _Membership(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    context: dict[str, Any]
    members: list[_Member]


def nrps_rows(body: Any) -> list[RosterRow]:
    """The active learners of an NRPS v2 membership container."""
    container = validated(_Membership, body, what="NRPS membership container")
    rows: list[RosterRow] = []
    for number, member in enumerate(container.members, start=1):
        if member.status != "Active" or not LEARNER_ROLES & set(member.roles):
            continue
        ours = _ours(member.lis_person_sourcedid or "")
        problem = None if ours else "no Credstack learner id as lis_person_sourcedid"
        rows.append(RosterRow(number, member.user_id, ours, problem))
    return rows
