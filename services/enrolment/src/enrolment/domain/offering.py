"""An offering as enrolment sees it: its window, capacity and fee. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from enrolment.domain.states import EnrolmentError, OfferingStatus


class OfferingClosed(EnrolmentError):
    code = "offering-closed"


@dataclass(frozen=True)
class Offering:
    id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    code: str
    title: str
    starts_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    fee_cents: int
    currency: str
    status: OfferingStatus

    def is_open(self, at: datetime) -> bool:
        return self.status is OfferingStatus.SCHEDULED and self._in_window(at)

    def _in_window(self, at: datetime) -> bool:
        return self.enrolment_opens_at <= at < self.enrolment_closes_at

    def check_open(self, at: datetime) -> None:
        if self.status is not OfferingStatus.SCHEDULED:
            raise OfferingClosed(f"This offering is {self.status.value} and takes no enrolments.")
        if not self._in_window(at):
            raise OfferingClosed(
                "Enrolment in this offering is not open now: it opens "
                f"{self.enrolment_opens_at.isoformat()} and closes "
                f"{self.enrolment_closes_at.isoformat()}.",
                enrolment_opens_at=self.enrolment_opens_at.isoformat(),
                enrolment_closes_at=self.enrolment_closes_at.isoformat(),
            )

    def offers_freed_seats(self, at: datetime) -> bool:
        """A freed seat goes to the waitlist until the offering starts."""
        return self.status is OfferingStatus.SCHEDULED and at.date() < self.starts_on
