"""The staff side of the catalogue: propose, edit, approve, publish, revise, retire; offerings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalogue import repository, tables, usecases
from catalogue.domain import (
    CatalogueError,
    InvalidOffering,
    MicroCredential,
    PolicyBreach,
    SelfApproval,
    Stack,
    WrongStatus,
)
from catalogue.views import (
    Cancellation,
    DraftChanges,
    MicroCredentialDraft,
    MicroCredentialView,
    OfferingRequest,
    Reschedule,
    Review,
    StackDraft,
    StackView,
)
from credstack.auth import Principal, require
from credstack.clock import now
from credstack.idempotency import StoredResponse
from credstack.problems import Problem
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


def problem(error: CatalogueError) -> Problem:
    if isinstance(error, usecases.NotFound):
        return Problem(404, "not-found", str(error))
    if isinstance(error, usecases.DuplicateCode):
        return Problem(409, "duplicate-code", str(error))
    if isinstance(error, PolicyBreach):
        return Problem(
            422,
            "policy-breach",
            f"The item breaks {len(error.breaches)} policy rule(s).",
            title="Policy breach",
            breaches=error.breaches,
        )
    if isinstance(error, SelfApproval):
        return Problem(403, "self-approval", str(error))
    if isinstance(error, WrongStatus):
        return Problem(409, "wrong-status", str(error))
    if isinstance(error, InvalidOffering):
        return Problem(422, "invalid-offering", str(error))
    if isinstance(error, usecases.UnknownPrerequisite):
        return Problem(422, "unknown-prerequisite", str(error))
    return Problem(422, "refused", str(error))


async def codes_of(conn: AsyncConnection, ids: list[UUID]) -> list[str]:
    if not ids:
        return []
    t = tables.micro_credential
    found = dict(
        (await conn.execute(select(t.c.id, t.c.code).where(t.c.id.in_(ids)).distinct())).all()
    )
    return [found[i] for i in ids if i in found]


async def view(conn: AsyncConnection, item: MicroCredential) -> MicroCredentialView:
    return MicroCredentialView.of(
        item,
        prerequisite_codes=await codes_of(conn, item.prerequisites),
        stacks=[],
    )


async def _run(engine: AsyncEngine, action: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    """Run `action` in one transaction, turning the catalogue's refusals into problems."""
    try:
        async with engine.begin() as conn:
            return await action(conn)
    except CatalogueError as error:
        raise problem(error) from error


async def _create_once(
    engine: AsyncEngine,
    *,
    scope: str,
    key: str | None,
    body: BaseModel,
    create: Callable[[AsyncConnection], Awaitable[Any]],
) -> JSONResponse:
    async def once(conn: AsyncConnection) -> StoredResponse:
        async def created() -> StoredResponse:
            return StoredResponse(201, jsonable_encoder(await create(conn)))

        return await tables.idempotency.once(
            conn, scope=scope, key=key, body=body.model_dump(mode="json"), create=created, now=now()
        )

    response = await _run(engine, once)
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
    response_model=list[MicroCredentialView],
    summary="Every version, drafts included (staff)",
)
async def versions(code: str, engine: Engine, _: Staff) -> list[MicroCredentialView]:
    async def load(conn: AsyncConnection) -> list[MicroCredentialView]:
        item_id = await repository.id_of_code(conn, code)
        if item_id is None:
            raise usecases.NotFound(f"No micro-credential with code {code}.")
        return [await view(conn, v) for v in await repository.versions(conn, item_id)]

    return list(await _run(engine, load))


@router.patch(
    "/micro-credentials/{code}/draft",
    response_model=MicroCredentialView,
    summary="Edit the draft version (a published version never changes)",
)
async def edit(code: str, changes: DraftChanges, engine: Engine, _: Staff) -> MicroCredentialView:
    async def apply(conn: AsyncConnection) -> MicroCredentialView:
        prerequisites = (
            await usecases.resolve_prerequisites(conn, changes.prerequisite_codes)
            if changes.prerequisite_codes is not None
            else None
        )
        fields = _domain_fields(changes, changes.model_fields_set, prerequisites)
        return await view(conn, await usecases.edit_draft(conn, code, fields, now=now()))

    result: MicroCredentialView = await _run(engine, apply)
    return result


def _transition(action: str, summary: str, role: Any) -> None:
    @router.post(
        f"/micro-credentials/{{code}}/{action}", response_model=MicroCredentialView, summary=summary
    )
    async def transition(code: str, engine: Engine, actor: Principal = role) -> MicroCredentialView:
        async def apply(conn: AsyncConnection) -> MicroCredentialView:
            at = now()
            if action == "approve":
                item = await usecases.approve(conn, code, approver=actor.subject, now=at)
            elif action == "revisions":
                item = await usecases.revise(conn, code, proposer=actor.subject, now=at)
            else:
                operation = {
                    "submit": usecases.submit,
                    "return": usecases.return_to_draft,
                    "publish": usecases.publish,
                    "disestablish": usecases.disestablish,
                }[action]
                item = await operation(conn, code, now=at)
            return await view(conn, item)

        result: MicroCredentialView = await _run(engine, apply)
        return result

    transition.__name__ = f"micro_credential_{action}"


_transition(
    "submit", "Submit the draft for approval (policy rules are checked)", require("catalogue:write")
)
_transition("return", "Return a submitted or approved version to draft", require("catalogue:write"))
_transition("approve", "Approve (by someone other than the proposer)", require("catalogue:approve"))
_transition(
    "publish", "Publish the approved version; it never changes after", require("catalogue:approve")
)
_transition(
    "revisions", "Start a new draft version from the published one", require("catalogue:write")
)
_transition(
    "disestablish", "Take no new offerings; credentials stay valid", require("catalogue:approve")
)


@router.post(
    "/micro-credentials/{code}/reviews",
    response_model=MicroCredentialView,
    summary="Record the annual review",
)
async def review(code: str, body: Review, engine: Engine, _: Staff) -> MicroCredentialView:
    async def apply(conn: AsyncConnection) -> MicroCredentialView:
        return await view(
            conn, await usecases.record_review(conn, code, on=body.reviewed_on, now=now())
        )

    result: MicroCredentialView = await _run(engine, apply)
    return result


@router.get(
    "/reviews-due",
    response_model=list[MicroCredentialView],
    summary="Published items due for annual review",
)
async def reviews_due(
    engine: Engine,
    _: Staff,
    on_or_before: Annotated[date | None, Query(description="Default: 30 days from today")] = None,
) -> list[MicroCredentialView]:
    until = on_or_before or (now() + timedelta(days=30)).date()
    async with engine.connect() as conn:
        return [await view(conn, item) for item in await repository.reviews_due(conn, until)]


@router.post(
    "/micro-credentials/{code}/offerings",
    status_code=201,
    summary="Schedule an offering (a cohort)",
)
async def schedule(
    code: str,
    request: OfferingRequest,
    engine: Engine,
    staff: Staff,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def create(conn: AsyncConnection) -> dict[str, Any]:
        offering_id = await usecases.schedule(conn, code, request.plan(), now=now())
        return {"id": offering_id, "code": code}

    return await _create_once(
        engine,
        scope=f"schedule:{code}:{staff.subject}",
        key=idempotency_key,
        body=request,
        create=create,
    )


@router.patch("/offerings/{offering_id}", summary="Reschedule an offering")
async def reschedule(
    offering_id: UUID, body: Reschedule, engine: Engine, _: Staff
) -> dict[str, Any]:
    async def apply(conn: AsyncConnection) -> None:
        target = await repository.get_offering(conn, offering_id)
        if target is None:
            raise usecases.NotFound(f"No offering {offering_id}.")
        plan = target.plan.__class__(**{**target.plan.__dict__, **body.model_dump()})
        await usecases.reschedule(conn, offering_id, plan, now=now())

    await _run(engine, apply)
    return {"id": offering_id, "status": "scheduled"}


@router.post("/offerings/{offering_id}/cancel", summary="Cancel an offering")
async def cancel(offering_id: UUID, body: Cancellation, engine: Engine, _: Staff) -> dict[str, Any]:
    async def apply(conn: AsyncConnection) -> None:
        await usecases.cancel(conn, offering_id, reason=body.reason, now=now())

    await _run(engine, apply)
    return {"id": offering_id, "status": "cancelled"}


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


def _stack_transition(action: str, role: Any) -> None:
    @router.post(
        f"/stacks/{{code}}/{action}", response_model=StackView, summary=f"{action.title()} a stack"
    )
    async def transition(code: str, engine: Engine, actor: Principal = role) -> StackView:
        async def apply(conn: AsyncConnection) -> StackView:
            return StackView.of(
                await usecases.transition_stack(conn, code, action, actor=actor.subject, now=now())
            )

        result: StackView = await _run(engine, apply)
        return result

    transition.__name__ = f"stack_{action}"


_stack_transition("submit", require("catalogue:write"))
_stack_transition("approve", require("catalogue:approve"))
_stack_transition("publish", require("catalogue:approve"))
