"""The staff side of the catalogue: propose, edit, approve, publish, revise, retire; offerings.

Each route owns its one transaction; a refusal raised inside it rolls it back and is
rendered by the service factory's one handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalogue import repository, tables, usecases
from catalogue.domain import MicroCredential, OfferingStatus, Stack
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
    StackDraft,
    StackView,
)
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


async def _create_once(
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
        return await view(conn, await usecases.propose(conn, item, now=now()))

    return await _create_once(
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
async def edit(code: str, changes: DraftChanges, engine: Engine, _: Staff) -> MicroCredentialView:
    async with engine.begin() as conn:
        prerequisites = (
            await usecases.resolve_prerequisites(conn, changes.prerequisite_codes)
            if changes.prerequisite_codes is not None
            else None
        )
        fields = _domain_fields(changes, changes.model_fields_set, prerequisites)
        return await view(conn, await usecases.edit_draft(conn, code, fields, now=now()))


@router.post(
    "/micro-credentials/{code}/submit",
    response_model=MicroCredentialView,
    summary="Submit the draft for approval (policy rules are checked)",
)
async def submit(code: str, request: Request, engine: Engine, _: Staff) -> MicroCredentialView:
    """Refused (422, `policy-breach`) with every rule the item breaks, each named: the
    centre's policy is configured by the `CATALOGUE_POLICY_*` settings."""
    policy = request.app.state.settings.policy()
    async with engine.begin() as conn:
        return await view(conn, await usecases.submit(conn, code, now=now(), policy=policy))


@router.post(
    "/micro-credentials/{code}/return",
    response_model=MicroCredentialView,
    summary="Return a submitted or approved version to draft",
)
async def return_to_draft(code: str, engine: Engine, _: Staff) -> MicroCredentialView:
    async with engine.begin() as conn:
        return await view(conn, await usecases.return_to_draft(conn, code, now=now()))


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
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/publish",
    response_model=MicroCredentialView,
    summary="Publish the approved version; it never changes after",
)
async def publish(code: str, engine: Engine, _: Approver) -> MicroCredentialView:
    async with engine.begin() as conn:
        return await view(conn, await usecases.publish(conn, code, now=now()))


@router.post(
    "/micro-credentials/{code}/revisions",
    response_model=MicroCredentialView,
    summary="Start a new draft version from the published one",
)
async def revise(code: str, engine: Engine, staff: Staff) -> MicroCredentialView:
    async with engine.begin() as conn:
        item = await usecases.revise(conn, code, proposer=staff.subject, now=now())
        return await view(conn, item)


@router.post(
    "/micro-credentials/{code}/disestablish",
    response_model=MicroCredentialView,
    summary="Take no new offerings; credentials stay valid",
)
async def disestablish(code: str, engine: Engine, _: Approver) -> MicroCredentialView:
    async with engine.begin() as conn:
        return await view(conn, await usecases.disestablish(conn, code, now=now()))


@router.post(
    "/micro-credentials/{code}/reviews",
    response_model=MicroCredentialView,
    summary="Record the annual review",
)
async def review(code: str, body: Review, engine: Engine, _: Staff) -> MicroCredentialView:
    async with engine.begin() as conn:
        item = await usecases.record_review(conn, code, on=body.reviewed_on, now=now())
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
        return OfferingCreated(id=offering_id, code=code)

    return await _create_once(
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
    offering_id: UUID, body: Reschedule, engine: Engine, _: Staff
) -> OfferingState:
    async with engine.begin() as conn:
        await usecases.reschedule(
            conn,
            offering_id,
            **body.model_dump(exclude={"sessions"}),
            sessions=None if body.sessions is None else sessions_of(body.sessions),
            now=now(),
        )
    return OfferingState(id=offering_id, status=OfferingStatus.SCHEDULED)


@router.post(
    "/offerings/{offering_id}/cancel", response_model=OfferingState, summary="Cancel an offering"
)
async def cancel(offering_id: UUID, body: Cancellation, engine: Engine, _: Staff) -> OfferingState:
    async with engine.begin() as conn:
        await usecases.cancel(conn, offering_id, reason=body.reason, now=now())
    return OfferingState(id=offering_id, status=OfferingStatus.CANCELLED)


@router.post(
    "/stacks",
    status_code=201,
    response_model=StackView,
    summary="Propose a stack (series or suite)",
)
async def propose_stack(
    draft: StackDraft, engine: Engine, staff: Staff, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def create(conn: AsyncConnection) -> StackView:
        member_ids = await usecases.member_ids(conn, draft.member_codes)
        item = Stack(
            id=uuid4(),
            version=1,
            proposed_by=staff.subject,
            approved_by=None,
            members=await repository.stack_members(conn, member_ids),
            **draft.model_dump(exclude={"member_codes", "learning_outcomes", "credit_pathways"}),
            learning_outcomes=draft.learning_outcomes,
            credit_pathways=draft.credit_pathways,
        )
        return StackView.of(await usecases.propose_stack(conn, item, now=now()))

    return await _create_once(
        engine, scope=f"stack:{staff.subject}", key=idempotency_key, body=draft, create=create
    )


@router.post("/stacks/{code}/submit", response_model=StackView, summary="Submit a stack")
async def submit_stack(code: str, engine: Engine, _: Staff) -> StackView:
    async with engine.begin() as conn:
        return StackView.of(await usecases.submit_stack(conn, code, now=now()))


@router.post("/stacks/{code}/approve", response_model=StackView, summary="Approve a stack")
async def approve_stack(code: str, engine: Engine, approver: Approver) -> StackView:
    async with engine.begin() as conn:
        item = await usecases.approve_stack(conn, code, approver=approver.subject, now=now())
        return StackView.of(item)


@router.post("/stacks/{code}/publish", response_model=StackView, summary="Publish a stack")
async def publish_stack(code: str, engine: Engine, _: Approver) -> StackView:
    async with engine.begin() as conn:
        return StackView.of(await usecases.publish_stack(conn, code, now=now()))
