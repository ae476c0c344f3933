"""The staff side of the catalogue: propose, edit, approve, publish, revise, retire; offerings.

Each route owns its one transaction; a refusal raised inside it rolls it back and is
rendered by the service factory's one handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalogue import repository, tables, usecases
from catalogue.domain import MicroCredential, OfferingStatus
from catalogue.offering_views import sessions_of
from catalogue.views import (
    Cancellation,
    DraftChanges,
    MicroCredentialDraft,
    MicroCredentialView,
    OfferingCreated,
    OfferingRequest,
    OfferingState,
    Reschedule,
    Review,
    Why,
)
from credstack.audit import StaffAction
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.idempotency import StoredResponse
from credstack.pagination import (
    Cursor,
    Limit,
    MalformedCursor,
    Page,
    decode_cursor,
    page_of,
)
from credstack.service import Engine

router = APIRouter(tags=["staff"])

Staff = Annotated[Principal, require("catalogue:write")]
Approver = Annotated[Principal, require("catalogue:approve")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retries with the same key and body get the first response back",
    ),
]


async def view(conn: AsyncConnection, item: MicroCredential) -> MicroCredentialView:
    return MicroCredentialView.of(
        item, prerequisite_codes=await repository.codes_of(conn, item.prerequisites), stacks=[]
    )


async def create_once(
    engine: AsyncEngine,
    *,
    scope: str,
    key: str | None,
    body: BaseModel,
    create: Callable[[AsyncConnection], Awaitable[BaseModel]],
) -> JSONResponse:
    """201 with what `create` made, or the first answer to a retry with the same key."""
    async with engine.begin() as conn:

        async def created() -> StoredResponse:
            return StoredResponse(201, jsonable_encoder(await create(conn)))

        response = await tables.idempotency.once(
            conn, scope=scope, key=key, body=body.model_dump(mode="json"), create=created, now=now()
        )
    return JSONResponse(response.body, status_code=response.status)


async def audit(
    conn: AsyncConnection,
    staff: Principal,
    action: StaffAction,
    target: str,
    *,
    kind: str = "micro-credential",
    reason: str | None = None,
    **details: Any,
) -> None:
    """Record `staff`'s action on `target` in the action's own transaction."""
    await tables.audit.record_action(conn, staff, action, kind, target, reason=reason, **details)


def _domain_fields(
    body: BaseModel, names: set[str], prerequisites: list[UUID] | None
) -> dict[str, Any]:
    """The domain's values for `names` of `body` (nested parts stay typed)."""
    fields = {name: getattr(body, name) for name in names - {"prerequisite_codes"}}
    if prerequisites is not None:
        fields["prerequisites"] = prerequisites
    return fields


@router.post(
    "/micro-credentials",
    status_code=201,
    response_model=MicroCredentialView,
    summary="Propose a micro-credential (a draft, version 1)",
)
async def propose(
    draft: MicroCredentialDraft,
    engine: Engine,
    staff: Staff,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def create(conn: AsyncConnection) -> MicroCredentialView:
        prerequisites = await usecases.resolve_prerequisites(conn, draft.prerequisite_codes)
        item = MicroCredential(
            id=uuid4(),
            version=1,
            proposed_by=staff.subject,
            **_domain_fields(draft, set(MicroCredentialDraft.model_fields), prerequisites),
        )
        proposed = await usecases.propose(conn, item, now=now())
        await audit(conn, staff, StaffAction.MICRO_CREDENTIAL_PROPOSE, item.code)
        return await view(conn, proposed)

    return await create_once(
        engine, scope=f"propose:{staff.subject}", key=idempotency_key, body=draft, create=create
    )


@router.get(
    "/micro-credentials/{code}/versions",
    response_model=Page[MicroCredentialView],
    summary="Every version, drafts included (staff), oldest first",
)
async def versions(
    code: str, engine: Engine, _: Staff, limit: Limit = 100, cursor: Cursor = None
) -> Page[MicroCredentialView]:
    (after,) = decode_cursor(cursor, int) if cursor else (None,)
    async with engine.connect() as conn:
        item_id = await usecases.item_id(conn, code)
        found = await repository.versions(conn, item_id, after=after, limit=limit + 1)
        page = page_of(found, limit, key=lambda item: (item.version,))
        return Page(
            items=[await view(conn, item) for item in page.items], next_cursor=page.next_cursor
        )


@router.patch(
    "/micro-credentials/{code}/draft",
    response_model=MicroCredentialView,
    summary="Edit the draft version (a published version never changes)",
)
async def edit(
    code: str, changes: DraftChanges, engine: Engine, staff: Staff
) -> MicroCredentialView:
    async with engine.begin() as conn:
        prerequisites = (
            await usecases.resolve_prerequisites(conn, changes.prerequisite_codes)
            if changes.prerequisite_codes is not None
            else None
        )
        fields = _domain_fields(changes, changes.model_fields_set, prerequisites)
        item = await usecases.edit_draft(conn, code, fields, now=now())
        await audit(
            conn,
            staff,
            StaffAction.MICRO_CREDENTIAL_EDIT,
            code,
            version=item.version,
            fields=sorted(changes.model_fields_set),
        )
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/submit",
    response_model=MicroCredentialView,
    summary="Submit the draft for approval (policy rules are checked)",
)
async def submit(code: str, request: Request, engine: Engine, staff: Staff) -> MicroCredentialView:
    """Refused (422, `policy-breach`) with every rule the item breaks, each named: the
    centre's policy is configured by the `CATALOGUE_POLICY_*` settings."""
    policy = request.app.state.settings.policy()
    async with engine.begin() as conn:
        item = await usecases.submit(conn, code, now=now(), policy=policy)
        await audit(conn, staff, StaffAction.MICRO_CREDENTIAL_SUBMIT, code, version=item.version)
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/return",
    response_model=MicroCredentialView,
    summary="Return a submitted or approved version to draft",
)
async def return_to_draft(
    code: str, engine: Engine, staff: Staff, body: Why = Body(default_factory=Why)
) -> MicroCredentialView:
    """The body (optional) says why, e.g. what to change; it is kept in the audit log."""
    async with engine.begin() as conn:
        item = await usecases.return_to_draft(conn, code, now=now())
        await audit(
            conn,
            staff,
            StaffAction.MICRO_CREDENTIAL_RETURN,
            code,
            reason=body.reason,
            version=item.version,
        )
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/approve",
    response_model=MicroCredentialView,
    summary="Approve (by someone other than the proposer)",
)
async def approve(
    code: str, request: Request, engine: Engine, approver: Approver
) -> MicroCredentialView:
    policy = request.app.state.settings.policy()
    async with engine.begin() as conn:
        item = await usecases.approve(
            conn, code, approver=approver.subject, now=now(), policy=policy
        )
        await audit(
            conn, approver, StaffAction.MICRO_CREDENTIAL_APPROVE, code, version=item.version
        )
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/publish",
    response_model=MicroCredentialView,
    summary="Publish the approved version; it never changes after",
)
async def publish(code: str, engine: Engine, approver: Approver) -> MicroCredentialView:
    async with engine.begin() as conn:
        item = await usecases.publish(conn, code, now=now())
        await audit(
            conn, approver, StaffAction.MICRO_CREDENTIAL_PUBLISH, code, version=item.version
        )
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/revisions",
    response_model=MicroCredentialView,
    summary="Start a new draft version from the published one",
)
async def revise(code: str, engine: Engine, staff: Staff) -> MicroCredentialView:
    async with engine.begin() as conn:
        item = await usecases.revise(conn, code, proposer=staff.subject, now=now())
        await audit(conn, staff, StaffAction.MICRO_CREDENTIAL_REVISE, code, version=item.version)
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/disestablish",
    response_model=MicroCredentialView,
    summary="Take no new offerings; credentials stay valid",
)
async def disestablish(
    code: str, engine: Engine, approver: Approver, body: Why = Body(default_factory=Why)
) -> MicroCredentialView:
    """The body (optional) says why; it is kept in the audit log."""
    async with engine.begin() as conn:
        item = await usecases.disestablish(conn, code, now=now())
        await audit(
            conn,
            approver,
            StaffAction.MICRO_CREDENTIAL_RETIRE,
            code,
            reason=body.reason,
            version=item.version,
        )
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/reviews",
    response_model=MicroCredentialView,
    summary="Record the annual review",
)
async def review(code: str, body: Review, engine: Engine, staff: Staff) -> MicroCredentialView:
    async with engine.begin() as conn:
        item = await usecases.record_review(conn, code, on=body.reviewed_on, now=now())
        await audit(
            conn,
            staff,
            StaffAction.MICRO_CREDENTIAL_REVIEW,
            code,
            reviewed_on=body.reviewed_on.isoformat(),
        )
        return await view(conn, item)


def _review_cursor(cursor: str | None) -> tuple[date, str] | None:
    if cursor is None:
        return None
    due, code = decode_cursor(cursor, str, str)
    try:
        return date.fromisoformat(due), code
    except ValueError as error:
        raise MalformedCursor("The cursor is not one this API gave out.") from error


@router.get(
    "/reviews-due",
    response_model=Page[MicroCredentialView],
    summary="Published items due for annual review, soonest first",
)
async def reviews_due(
    engine: Engine,
    _: Staff,
    on_or_before: Annotated[date | None, Query(description="Default: 30 days from today")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[MicroCredentialView]:
    until = on_or_before or (now() + timedelta(days=30)).date()
    async with engine.connect() as conn:
        found = await repository.reviews_due(
            conn, until, after=_review_cursor(cursor), limit=limit + 1
        )
        page = page_of(found, limit, key=lambda item: (str(item.review_due_on), item.code))
        return Page(
            items=[await view(conn, item) for item in page.items], next_cursor=page.next_cursor
        )


@router.get(
    "/awaiting-approval",
    response_model=Page[MicroCredentialView],
    summary="Versions submitted and awaiting an approver, by code",
)
async def awaiting_approval(
    engine: Engine, _: Staff, limit: Limit = 100, cursor: Cursor = None
) -> Page[MicroCredentialView]:
    after = None
    if cursor is not None:
        code, version = decode_cursor(cursor, str, int)
        after = (str(code), int(version))
    async with engine.connect() as conn:
        found = await repository.awaiting_approval(conn, after=after, limit=limit + 1)
        page = page_of(found, limit, key=lambda item: (item.code, item.version))
        return Page(
            items=[await view(conn, item) for item in page.items], next_cursor=page.next_cursor
        )


@router.post(
    "/micro-credentials/{code}/offerings",
    status_code=201,
    response_model=OfferingCreated,
    summary="Schedule an offering (a cohort)",
)
async def schedule(
    code: str,
    request: OfferingRequest,
    engine: Engine,
    staff: Staff,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def create(conn: AsyncConnection) -> OfferingCreated:
        offering_id = await usecases.schedule(conn, code, request.plan(), now=now())
        await audit(
            conn,
            staff,
            StaffAction.OFFERING_SCHEDULE,
            str(offering_id),
            kind="offering",
            code=code,
            plan=request.model_dump(mode="json"),
        )
        return OfferingCreated(id=offering_id, code=code)

    return await create_once(
        engine,
        scope=f"schedule:{code}:{staff.subject}",
        key=idempotency_key,
        body=request,
        create=create,
    )


@router.patch(
    "/offerings/{offering_id}", response_model=OfferingState, summary="Reschedule an offering"
)
async def reschedule(
    offering_id: UUID, body: Reschedule, engine: Engine, staff: Staff
) -> OfferingState:
    async with engine.begin() as conn:
        await usecases.reschedule(
            conn,
            offering_id,
            **body.model_dump(exclude={"sessions"}),
            sessions=None if body.sessions is None else sessions_of(body.sessions),
            now=now(),
        )
        await audit(
            conn,
            staff,
            StaffAction.OFFERING_RESCHEDULE,
            str(offering_id),
            kind="offering",
            plan=body.model_dump(mode="json"),
        )
    return OfferingState(id=offering_id, status=OfferingStatus.SCHEDULED)


@router.post(
    "/offerings/{offering_id}/cancel", response_model=OfferingState, summary="Cancel an offering"
)
async def cancel(
    offering_id: UUID, body: Cancellation, engine: Engine, staff: Staff
) -> OfferingState:
    async with engine.begin() as conn:
        await usecases.cancel(conn, offering_id, reason=body.reason, now=now())
        await audit(
            conn,
            staff,
            StaffAction.OFFERING_CANCEL,
            str(offering_id),
            kind="offering",
            reason=body.reason,
        )
    return OfferingState(id=offering_id, status=OfferingStatus.CANCELLED)
