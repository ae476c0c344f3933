"""An offering's sessions as staff give them and the public website shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from catalogue.domain import Session


class SessionPlan(BaseModel):
    """One class meeting: at a `venue`, or `online` (optionally with a `join_note`)."""

    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    venue: str | None = Field(
        default=None, min_length=1, max_length=300, description="Where it meets; omit if online"
    )
    online: bool = False
    join_note: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Online only: how to join, e.g. 'the link is emailed the day before'",
    )

    def session(self) -> Session:
        return Session(
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            venue=self.venue,
            online=self.online,
            join_note=self.join_note,
        )


def sessions_of(plans: list[SessionPlan]) -> tuple[Session, ...]:
    """The sessions in time order."""
    return tuple(sorted((p.session() for p in plans), key=lambda s: (s.starts_at, s.ends_at)))


class SessionView(BaseModel):
    """A session of an offering: when, and at which venue or online."""

    model_config = ConfigDict(from_attributes=True)

    starts_at: datetime = Field(description="With its UTC offset")
    ends_at: datetime
    venue: str | None = Field(description="None when online")
    online: bool
    join_note: str | None
