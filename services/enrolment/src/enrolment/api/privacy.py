"""Learners' privacy rights: their data here, one archive from every service, and erasure.
Staff (`enrolment:manage`) do the same for a learner who asks them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from credstack.audit import StaffAction
from credstack.auth import learner_id_for
from credstack.clock import now
from credstack.privacy import EXPORT_PATH
from credstack.service import Engine
from enrolment import archive, tables
from enrolment.api.common import Learner, Staff
from enrolment.settings import Settings
from enrolment.usecases import privacy
from enrolment.usecases.privacy import EnrolmentData, ErasureRecord

router = APIRouter(tags=["privacy"])


async def _data(engine: Engine, learner_id: UUID, at: datetime) -> EnrolmentData:
    async with engine.connect() as conn:
        return await privacy.learner_data(conn, learner_id, at=at)


@router.get(EXPORT_PATH, response_model=EnrolmentData)
async def my_data(engine: Engine, learner: Learner) -> EnrolmentData:
    """Everything the enrolment service holds on you: profile, enrolments, payments,
    credentials and placements it knows of, and your erasure, if you asked for one."""
    return await _data(engine, learner_id_for(learner.subject), now())


@router.get("/admin/learners/{learner_id}/data", response_model=EnrolmentData)
async def learner_data(learner_id: UUID, engine: Engine, _: Staff) -> EnrolmentData:
    """What the enrolment service holds on a learner (staff, for a learner who asks)."""
    return await _data(engine, learner_id, now())


ZIP: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A zip: manifest.json and one <service>.json per service",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("/learners/me/archive", response_class=Response, responses=ZIP)
async def my_archive(request: Request, engine: Engine, learner: Learner) -> Response:
    """Everything the platform holds on you, from every service, as one zip. Each service
    is asked with your own token; when one cannot answer, nothing is handed over (503
    `export-incomplete`, naming it) and you ask again later."""
    settings: Settings = request.app.state.settings
    learner_id = learner_id_for(learner.subject)
    at = now()
    own = await _data(engine, learner_id, at)
    others = await archive.gather(
        settings.export_sources(),
        request.headers["Authorization"],
        wait_seconds=settings.export_timeout_seconds,
        transport=getattr(request.app.state, "export_transport", None),
    )
    document: dict[str, Any] = own.model_dump(mode="json")
    content = archive.pack(learner_id, [archive.Part("enrolment", document), *others], at=at)
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="credstack-{learner_id}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/learners/me/erasure", response_model=ErasureRecord)
async def erase_me(engine: Engine, learner: Learner) -> ErasureRecord:
    """Erase your personal data everywhere it is not needed to keep your issued credentials
    verifiable or the records the university must keep; the answer says what each service
    erases and what it keeps and why. Asking again changes nothing (`repeated`). Refused
    (409) while an enrolment is in progress."""
    async with engine.begin() as conn:
        return await privacy.erase(
            conn, learner_id_for(learner.subject), requested_by="learner", at=now()
        )


@router.post("/admin/learners/{learner_id}/erasure", response_model=ErasureRecord)
async def erase_learner(learner_id: UUID, engine: Engine, staff: Staff) -> ErasureRecord:
    """Erase a learner's personal data on their behalf (staff), as `POST
    /learners/me/erasure` does."""
    async with engine.begin() as conn:
        record = await privacy.erase(
            conn, learner_id, requested_by=f"staff:{staff.subject}", at=now()
        )
        if not record.repeated:
            await tables.audit.record_action(
                conn, staff, StaffAction.LEARNER_ERASE, "learner", learner_id
            )
    return record
