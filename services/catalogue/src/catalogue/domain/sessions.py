"""An offering's sessions: when and where each class meets (a venue, or online). No I/O.

The public website shows them with the offering; the number of sessions is its contact
sessions (attendance is counted against those) when the plan gives that number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Session:
    """One class meeting: at a `venue`, or `online` (with an optional `join_note`, e.g. how
    the link is sent). Times are aware datetimes."""

    starts_at: datetime
    ends_at: datetime
    venue: str | None = None
    online: bool = False
    join_note: str | None = None

    def problems(self, *, starts_on: date, ends_on: date, zone: ZoneInfo) -> list[str]:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            return ["give each session's times with a UTC offset"]
        problems = []
        what = f"the session starting {self.starts_at.isoformat()}"
        if self.ends_at <= self.starts_at:
            problems.append(f"{what} must end after it starts")
        days = {self.starts_at.astimezone(zone).date(), self.ends_at.astimezone(zone).date()}
        if min(days) < starts_on or max(days) > ends_on:
            problems.append(f"{what} is outside the offering's dates ({starts_on} to {ends_on})")
        if self.online == bool(self.venue):
            problems.append(f"{what} is either at a venue or online")
        if self.join_note and not self.online:
            problems.append(f"{what}: a join note is for an online session")
        return problems


def session_problems(
    sessions: Sequence[Session],
    *,
    starts_on: date,
    ends_on: date,
    time_zone: str,
    contact_sessions: int | None,
) -> list[str]:
    """What is wrong with an offering's sessions (none given is fine: not planned yet)."""
    if not sessions:
        return []
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return [f"unknown time zone {time_zone!r} for the sessions' dates"]
    problems = [
        problem
        for session in sessions
        for problem in session.problems(starts_on=starts_on, ends_on=ends_on, zone=zone)
    ]
    if contact_sessions is not None and len(sessions) != contact_sessions:
        problems.append(
            f"contact_sessions is {contact_sessions} but the plan lists {len(sessions)} sessions"
        )
    return problems
