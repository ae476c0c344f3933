"""An offering: a scheduled cohort of a published micro-credential, and its schedule rules."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from catalogue.domain.lifecycle import (
    InvalidOffering,
    Status,
    WrongStatus,
)
from catalogue.domain.micro_credentials import (
    MicroCredential,
)
from catalogue.domain.sessions import Session, session_problems
from credstack.contracts.catalogue import (
    OfferingCancelled,
    OfferingRescheduled,
    OfferingScheduled,
)


class OfferingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OfferingPlan:
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    capacity: int
    delivery_mode: str
    time_zone: str = "Australia/Sydney"
    location: str = ""
    fee_cents: int | None = None
    convenor: str | None = None
    lms_course_ref: str | None = None
    contact_sessions: int | None = None
    sessions: tuple[Session, ...] = ()

    def problems(self) -> list[str]:
        problems = session_problems(
            self.sessions,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            time_zone=self.time_zone,
            contact_sessions=self.contact_sessions,
        )
        if self.ends_on < self.starts_on:
            problems.append("an offering cannot end before it starts")
        if self.enrolment_closes_at <= self.enrolment_opens_at:
            problems.append("enrolment must open before it closes")
        if self.enrolment_opens_at.date() > self.starts_on:
            problems.append("enrolment must open before the offering starts")
        if self.enrolment_closes_at.date() > self.starts_on:
            problems.append(
                "enrolment-window: enrolment must close before the offering starts "
                f"(closes {self.enrolment_closes_at.date()}, starts {self.starts_on})"
            )
        return problems


@dataclass
class Offering:
    id: UUID
    micro_credential_id: UUID
    micro_credential_version: int
    plan: OfferingPlan
    status: OfferingStatus = OfferingStatus.SCHEDULED
    enrolment_announced: bool = False

    def is_open(self, at: datetime) -> bool:
        return (
            self.status is OfferingStatus.SCHEDULED
            and self.plan.enrolment_opens_at <= at < self.plan.enrolment_closes_at
        )

    def reschedule(self, plan: OfferingPlan, at: datetime) -> OfferingRescheduled:
        if self.status is not OfferingStatus.SCHEDULED:
            raise InvalidOffering("A cancelled offering cannot be rescheduled.")
        if problems := plan.problems():
            raise InvalidOffering("; ".join(problems))
        self.plan = replace(
            self.plan,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            enrolment_opens_at=plan.enrolment_opens_at,
            enrolment_closes_at=plan.enrolment_closes_at,
            capacity=plan.capacity,
            sessions=plan.sessions,
        )
        return OfferingRescheduled(
            offering_id=self.id,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            enrolment_opens_at=plan.enrolment_opens_at,
            enrolment_closes_at=plan.enrolment_closes_at,
            capacity=plan.capacity,
            rescheduled_at=at,
        )

    def cancel(self, reason: str, at: datetime) -> OfferingCancelled:
        if self.status is OfferingStatus.CANCELLED:
            raise InvalidOffering("The offering is already cancelled.")
        self.status = OfferingStatus.CANCELLED
        return OfferingCancelled(offering_id=self.id, reason=reason, cancelled_at=at)


def schedule_offering(
    micro_credential: MicroCredential, offering_id: UUID, plan: OfferingPlan
) -> tuple[Offering, OfferingScheduled]:
    """An offering is a cohort of one exact published version (not self-paced)."""
    if micro_credential.status is not Status.PUBLISHED:
        raise WrongStatus("schedule an offering of", micro_credential.status)
    problems = plan.problems()
    if plan.delivery_mode not in micro_credential.delivery_modes:
        problems.append(
            f"delivery mode {plan.delivery_mode} is not approved for {micro_credential.code} "
            f"(approved: {', '.join(micro_credential.delivery_modes)})"
        )
    if problems:
        raise InvalidOffering("; ".join(problems))
    fee = micro_credential.fee_cents if plan.fee_cents is None else plan.fee_cents
    plan = replace(plan, fee_cents=fee, convenor=plan.convenor or micro_credential.convenor)
    offering = Offering(
        id=offering_id,
        micro_credential_id=micro_credential.id,
        micro_credential_version=micro_credential.version,
        plan=plan,
    )
    return offering, OfferingScheduled(
        offering_id=offering_id,
        micro_credential_id=micro_credential.id,
        micro_credential_version=micro_credential.version,
        code=micro_credential.code,
        title=micro_credential.title,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        enrolment_opens_at=plan.enrolment_opens_at,
        enrolment_closes_at=plan.enrolment_closes_at,
        capacity=plan.capacity,
        delivery_mode=plan.delivery_mode,
        location=plan.location,
        fee_cents=fee,
        time_zone=plan.time_zone,
        convenor=plan.convenor or "",
        lms_course_ref=plan.lms_course_ref,
        contact_sessions=plan.contact_sessions,
        language=micro_credential.language,
        is_language_micro_credential=micro_credential.is_language_micro_credential,
        language_level=micro_credential.language_level,
        prerequisites=micro_credential.prerequisites,
    )
