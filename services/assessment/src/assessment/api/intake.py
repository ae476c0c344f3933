"""Grade intake: the native form and the standard forms LMS integrations send."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assessment import repository
from assessment.api.common import (
    CaliperSensor,
    GradeReceipt,
    LtiClient,
    NativeClient,
    Receipts,
    XapiClient,
    intake_status,
    kept,
    receipts_response,
)
from assessment.formats import (
    Malformed,
    Submission,
    WrongMediaType,
    caliper,
    jsonable,
    load_json,
    lti,
    moodle,
    xapi,
)
from assessment.formats.native import NativeGrade, native_submission
from assessment.gradebook import fetch
from assessment.registry import ClientKind, LmsClient
from assessment.usecases import NotFound, NotServed, intake
from assessment.usecases import moodle as moodle_notifications
from assessment.usecases.moodle import NotificationStatus
from credstack import access
from credstack.clock import now
from credstack.problems import Problem
from credstack.service import Engine

router = APIRouter(tags=["grade intake"])


class CaliperReceipts(Receipts):
    events: int = Field(description="Events in the envelope")
    ignored: int = Field(description="Events that are not grades")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _require_media_type(request: Request, *accepted: str) -> None:
    if _media_type(request) not in accepted:
        raise Problem(
            415,
            "unsupported-media-type",
            f"Send the body as {' or '.join(accepted)}.",
            headers={"Accept-Post": ", ".join(accepted)},
        )


async def _receive(
    engine: Engine, client: LmsClient, submissions: list[Submission]
) -> list[intake.Receipt]:
    async with engine.begin() as conn:
        return await intake.receive(conn, client, submissions, now=now())


@router.post(
    "/grades",
    summary="Post a grade (native JSON form)",
    response_model=Receipts,
    responses=kept(Receipts),
)
async def post_grade(
    body: NativeGrade,
    engine: Engine,
    client: NativeClient,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """An overall score in percent and, optionally, each learning outcome's result.

    200 when the grade is recorded for a confirmed enrolment (the body says the outcome,
    if decided); 202 when it is kept until the enrolment is confirmed. The same grade
    posted again (same Idempotency-Key, or identical to the latest) changes nothing.
    """
    submission = native_submission(body, delivery_id=idempotency_key, received_at=now())
    receipts = await _receive(engine, client, [submission])
    return receipts_response(Receipts(grades=[GradeReceipt.of(r) for r in receipts]), receipts)


async def _served_offering(
    engine: Engine, client: LmsClient, offering_id: UUID
) -> repository.AnnouncedOffering | None:
    if not client.serves(offering_id):
        raise NotServed(f"Client {client.id} is not registered for offering {offering_id}.")
    async with engine.connect() as conn:
        return await repository.announced_offering(conn, offering_id)


@router.get(
    "/lti/offerings/{offering_id}/lineitem",
    summary="The offering's AGS line item (the micro-credential's overall result)",
    tags=["LTI AGS"],
    response_class=Response,
    responses={
        200: {
            "description": "The AGS line item",
            "content": {lti.LINE_ITEM_MEDIA_TYPE: {"schema": lti.LINE_ITEM_SCHEMA}},
        }
    },
)
async def line_item(
    offering_id: UUID, request: Request, engine: Engine, client: LtiClient
) -> Response:
    known = await _served_offering(engine, client, offering_id)
    if known is None:
        raise NotFound(f"The catalogue has not announced offering {offering_id}.")
    return JSONResponse(
        lti.line_item(
            url=str(request.url),
            offering_id=offering_id,
            label=known.title,
            resource_id=known.code,
        ),
        media_type=lti.LINE_ITEM_MEDIA_TYPE,
    )


@router.post(
    "/lti/offerings/{offering_id}/lineitem/scores",
    summary="Post an LTI AGS Score to the offering's line item",
    tags=["LTI AGS"],
    response_model=Receipts,
    responses=kept(Receipts),
    openapi_extra={
        "requestBody": {
            "content": {lti.SCORE_MEDIA_TYPE: {"schema": lti.Score.model_json_schema()}}
        }
    },
)
async def post_score(
    offering_id: UUID, request: Request, engine: Engine, client: LtiClient
) -> JSONResponse:
    """`application/vnd.ims.lis.v1.score+json`, with a bearer token from the platform's
    identity provider naming a client registered for the offering. The user is mapped by
    the client's LTI issuer and deployment and the Score's `userId` (a roster link).
    A score whose timestamp is not newer than the stored one is refused (409)."""
    _require_media_type(request, lti.SCORE_MEDIA_TYPE)
    await _served_offering(engine, client, offering_id)
    submission = lti.score_submission(load_json(await request.body()), offering_id=offering_id)
    receipts = await _receive(engine, client, [submission])
    return receipts_response(Receipts(grades=[GradeReceipt.of(r) for r in receipts]), receipts)


LineItemId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._~-]*$",
        description="The LMS's id of one of its line items (a quiz, an assignment)",
    ),
]


@router.post(
    "/lti/offerings/{offering_id}/lineitems/{line_item}/scores",
    summary="Post an LTI AGS Score to another of the course's line items",
    tags=["LTI AGS"],
    response_model=Receipts,
    responses=kept(Receipts),
    openapi_extra={
        "requestBody": {
            "content": {lti.SCORE_MEDIA_TYPE: {"schema": lti.Score.model_json_schema()}}
        }
    },
)
async def post_line_item_score(
    offering_id: UUID, line_item: LineItemId, request: Request, engine: Engine, client: LtiClient
) -> JSONResponse:
    """A score for one of the course's other line items (activity = `line_item`): kept
    and shown to staff, formative (it never decides the result) unless staff declared that
    line item the summative assessment (`PUT /lms-clients/{id}/offerings/{id}/activities`).
    Otherwise as the offering's line item."""
    _require_media_type(request, lti.SCORE_MEDIA_TYPE)
    await _served_offering(engine, client, offering_id)
    submission = lti.score_submission(
        load_json(await request.body()), offering_id=offering_id, line_item=line_item
    )
    receipts = await _receive(engine, client, [submission])
    return receipts_response(Receipts(grades=[GradeReceipt.of(r) for r in receipts]), receipts)


@router.post(
    "/caliper/events",
    summary="Caliper 1.1/1.2 endpoint: a sensor's envelope of events",
    tags=["Caliper"],
    response_model=CaliperReceipts,
    responses=kept(CaliperReceipts),
)
async def caliper_events(request: Request, engine: Engine, sensor: CaliperSensor) -> JSONResponse:
    """An envelope (`sensor`, `sendTime`, `dataVersion`, `data`) with the sensor's API key
    as bearer token. Each `GradeEvent` (action `Graded`) is a grade; other events are
    acknowledged and ignored. The envelope is refused as a whole if any event is invalid."""
    _require_media_type(request, "application/json", "application/ld+json")
    submissions, event_ids = caliper.envelope_submissions(load_json(await request.body()))
    receipts = await _receive(engine, sensor, submissions)
    answer = CaliperReceipts(
        grades=[GradeReceipt.of(r) for r in receipts],
        events=len(event_ids),
        ignored=len(event_ids) - len(receipts),
    )
    return receipts_response(answer, receipts)


def _xapi_headers() -> dict[str, str]:
    return {xapi.VERSION_HEADER: xapi.VERSION}


class About(BaseModel):
    version: list[str]


@router.get(
    "/xapi/about",
    summary="xAPI: the versions this LRS speaks",
    tags=["xAPI"],
    response_model=About,
)
@access.public
async def xapi_about() -> JSONResponse:
    return JSONResponse({"version": [xapi.VERSION]}, headers=_xapi_headers())


async def _statements(
    request: Request,
    engine: Engine,
    client: LmsClient,
    version: str | None,
    statement_id: UUID | None,
) -> tuple[list[intake.Receipt], list[UUID]]:
    xapi.check_version(version)
    _require_media_type(request, "application/json")
    submissions, ids = xapi.statements(
        load_json(await request.body()), statement_id=statement_id, received_at=now()
    )
    return await _receive(engine, client, submissions), ids


XapiVersion = Annotated[str | None, Header(alias=xapi.VERSION_HEADER)]


@router.post(
    "/xapi/statements",
    summary="xAPI: store statements (one or a batch)",
    tags=["xAPI"],
    response_model=list[UUID],
    responses=kept(list[UUID]),
)
async def post_statements(
    request: Request, engine: Engine, client: XapiClient, version: XapiVersion = None
) -> JSONResponse:
    """Statements with `X-Experience-API-Version: 1.0.x` and HTTP Basic credentials.
    Answers the statements' ids. `context.registration` is the enrolment id."""
    receipts, ids = await _statements(request, engine, client, version, None)
    return JSONResponse(
        [str(i) for i in ids], status_code=intake_status(receipts), headers=_xapi_headers()
    )


@router.put(
    "/xapi/statements",
    summary="xAPI: store one statement with a given id",
    tags=["xAPI"],
    status_code=204,
    response_class=Response,
    responses={202: {"description": "Kept until the enrolment is confirmed, or quarantined"}},
)
async def put_statement(
    request: Request,
    engine: Engine,
    client: XapiClient,
    statement_id: Annotated[UUID, Query(alias="statementId")],
    version: XapiVersion = None,
) -> Response:
    receipts, _ = await _statements(request, engine, client, version, statement_id)
    return Response(
        status_code=204 if intake_status(receipts) == 200 else 202, headers=_xapi_headers()
    )


async def _moodle_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    media_type = _media_type(request)
    if media_type == "application/x-www-form-urlencoded":
        data: Any = moodle.form_fields(body)
    elif media_type == "application/json":
        data = load_json(body)
    else:
        raise WrongMediaType(
            "unsupported-media-type",
            "Send the notification as application/json or application/x-www-form-urlencoded.",
        )
    if not isinstance(data, dict):
        raise Malformed("invalid-moodle-notification", "The notification is not an object.")
    return data


class MoodleNotice(BaseModel):
    notification_id: int
    status: Literal["duplicate", "fetch-pending"]


class MoodleReceipts(Receipts):
    notification_id: int


@router.post(
    "/moodle/webhook",
    summary="Moodle event notification (user_graded); the grade is then fetched",
    tags=["Moodle"],
    response_model=MoodleReceipts | MoodleNotice,
    responses={
        202: {"model": MoodleNotice, "description": "Kept; the grade is fetched later"},
        204: {"description": "An event we do not act on, acknowledged"},
    },
)
@access.scheme("LMS client of kind `moodle`: the webhook's shared token")
async def moodle_webhook(request: Request, engine: Engine) -> Response:
    """A Moodle webhook with its shared `token`. On `\\core\\event\\user_graded` or
    `\\mod_assign\\event\\submission_graded` the learner's course total (and the
    notified grade item's grade) is fetched from Moodle's web service
    (`gradereport_user_get_grade_items`); if Moodle cannot be reached the notification is
    kept (202) and the fetch retried until it succeeds. Other events get 204."""
    data = await _moodle_body(request)
    notice = moodle.notification(data)
    async with engine.connect() as conn:
        client = await repository.client_by_secret(conn, notice.token) if notice.token else None
    if client is None or client.kind is not ClientKind.MOODLE:
        raise Problem(401, "unauthorized", "The token is not a registered Moodle webhook's.")
    if not client.active:
        raise Problem(403, "unregistered-client", f"Moodle client {client.id} is deactivated.")
    if notice.eventname not in moodle.GRADING_EVENTS:
        return Response(status_code=204)
    graded = moodle.graded_user(data)
    async with engine.begin() as conn:
        notification_id, status = await moodle_notifications.notified(
            conn,
            client,
            graded,
            payload=jsonable({k: v for k, v in data.items() if k != "token"}),
            now=now(),
        )
    if status is not NotificationStatus.PENDING:
        duplicate = MoodleNotice(notification_id=notification_id, status="duplicate")
        return JSONResponse(duplicate.model_dump(mode="json"))
    receipts = await fetch(engine, request.app.state.gradebook, notification_id)
    if receipts is None:
        pending = MoodleNotice(notification_id=notification_id, status="fetch-pending")
        return JSONResponse(pending.model_dump(mode="json"), status_code=202)
    answer = MoodleReceipts(
        grades=[GradeReceipt.of(r) for r in receipts], notification_id=notification_id
    )
    return receipts_response(answer, receipts)
