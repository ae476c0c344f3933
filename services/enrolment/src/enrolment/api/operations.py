"""Operations (scope `platform:operate`): what the reconciler reads and the repair it asks
for: confirmed enrolments, and their confirmation announced again; whether a published
micro-credential version arrived here (an offering: `GET /offerings/{id}/availability`);
payments reconciled with the provider."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.pagination import Cursor, Limit, Page, decode_cursor, page_of
from credstack.service import Engine
from enrolment import repository, tables
from enrolment.api.common import Flows
from enrolment.usecases import enrolments, reconciliation

router = APIRouter(tags=["operations"])
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="A published version")]


class ConfirmedEnrolment(BaseModel):
    enrolment_id: UUID


class KnownVersion(BaseModel):
    micro_credential_id: UUID
    version: int
    known: bool = Field(description="Whether its MicroCredentialPublished arrived here")


class Reannounced(BaseModel):
    enrolment_id: UUID
    events: list[str] = Field(description="The event types staged again (new event ids)")


@router.get(
    "/admin/confirmed-enrolments",
    response_model=Page[ConfirmedEnrolment],
    summary="Every confirmed enrolment, in id order (for the reconciler)",
)
async def confirmed_enrolments(
    engine: Engine,
    limit: Limit = 100,
    cursor: Cursor = None,
    _: Principal = require("platform:operate"),
) -> Page[ConfirmedEnrolment]:
    (after,) = decode_cursor(cursor, str) if cursor else (None,)
    async with engine.connect() as conn:
        found = await repository.confirmed_ids(
            conn, after=UUID(after) if after else None, limit=limit + 1
        )
    page = page_of(found, limit, lambda e: (str(e),))
    return Page(
        items=[ConfirmedEnrolment(enrolment_id=e) for e in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/admin/enrolments/{enrolment_id}/re-announce",
    response_model=Reannounced,
    summary="Publish a confirmed enrolment's EnrolmentConfirmed again, with a new event id",
)
async def reannounce(
    enrolment_id: UUID, engine: Engine, staff: Principal = require("platform:operate")
) -> Reannounced:
    """The reconciler's repair for a consumer that never learnt of a confirmation;
    consumers record it idempotently. 409 `wrong-status` when it is not confirmed."""
    async with engine.begin() as conn:
        events = await enrolments.reannounce(conn, enrolment_id, now=now())
        await tables.audit.record_action(
            conn, staff, StaffAction.ENROLMENT_REANNOUNCE, "enrolment", enrolment_id, events=events
        )
    return Reannounced(enrolment_id=enrolment_id, events=events)


@router.get(
    "/admin/micro-credentials/{micro_credential_id}/versions/{version}",
    response_model=KnownVersion,
    summary="Whether enrolment knows a published micro-credential version (for the reconciler)",
)
async def known_version(
    micro_credential_id: UUID,
    version: Version,
    engine: Engine,
    _: Principal = require("platform:operate"),
) -> KnownVersion:
    async with engine.connect() as conn:
        known = await repository.knows_version(conn, micro_credential_id, version)
    return KnownVersion(micro_credential_id=micro_credential_id, version=version, known=known)


class PaymentRepair(BaseModel):
    enrolment_id: UUID
    session_id: str
    before: str = Field(description="The enrolment's status and payment status before")
    after: str = Field(description="What the provider's state made of it")


class PaymentDisagreement(BaseModel):
    enrolment_id: UUID
    session_id: str
    here: str = Field(description="The enrolment's status and payment status here")
    provider: str = Field(description="The session's state at the provider")


class PaymentReconciliation(BaseModel):
    dry_run: bool
    checked: int = Field(description="Checkouts compared with the provider")
    repairs: list[PaymentRepair] = Field(
        description="Applied (with dry_run: would be applied) as the lost webhooks would have"
    )
    disagreements: list[PaymentDisagreement] = Field(
        description="Paid here, unpaid at the provider: for staff, never changed here"
    )
    unreachable: list[UUID] = Field(description="Enrolments the provider could not be asked about")


@router.post(
    "/admin/payments/reconcile",
    response_model=PaymentReconciliation,
    summary="Compare started checkouts with the payment provider; apply what webhooks missed",
)
async def reconcile_payments(
    flows: Flows,
    since_days: Annotated[
        int, Query(ge=1, le=366, description="Checkouts started in the last N days")
    ] = 14,
    dry_run: Annotated[bool, Query(description="Report the differences; change nothing")] = False,
    _: Principal = require("platform:operate"),
) -> PaymentReconciliation:
    """A payment the provider took whose webhook never arrived confirms the enrolment now;
    an expiry, failure or refund likewise. Each is applied through the webhooks' own use
    case, monotonically: a second run (or a webhook arriving late) changes nothing more."""
    at = now()
    result = await reconciliation.reconcile(
        flows, since=at - timedelta(days=since_days), now=at, dry_run=dry_run
    )
    return PaymentReconciliation(
        dry_run=dry_run,
        checked=result.checked,
        repairs=[PaymentRepair(**vars(r)) for r in result.repairs],
        disagreements=[PaymentDisagreement(**vars(d)) for d in result.disagreements],
        unreachable=result.unreachable,
    )
