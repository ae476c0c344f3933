"""Events the notifier publishes on `notifier.events`: counts, never an address."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from credstack.contracts.envelope import Event


class _NotifierEvent(Event):
    producer: ClassVar[str] = "notifier"


class EnrolmentOpeningAnnounced(_NotifierEvent):
    """The notifier told everyone whose interest in the micro-credential is confirmed (and
    not unsubscribed) that enrolment opened for this offering: how many, no addresses."""

    offering_id: UUID
    micro_credential_id: UUID
    interested: int = Field(ge=0, description="Confirmed interest registrations told")
    announced_at: datetime

    def key(self) -> str:
        return str(self.offering_id)
