"""Events from assessment: results released."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.assessment import AssessmentFailed, AssessmentPassed
from credstack.contracts.envelope import Received
from notifier.domain import Kind
from notifier.repository import (
    enrolments,
)
from notifier.usecases.staging import known_enrolment, to_learner


async def _result(
    conn: AsyncConnection,
    event: AssessmentPassed | AssessmentFailed,
    kind: Kind,
    result: str,
    received: Received,
) -> None:
    await enrolments.set_result(conn, event.enrolment_id, result)
    known = await known_enrolment(conn, event.enrolment_id)
    await to_learner(
        conn,
        kind,
        f"{event.enrolment_id}:{event.decided_at.isoformat()}",
        event.learner_id,
        {
            "enrolment_id": str(event.enrolment_id),
            "micro_credential_id": str(event.micro_credential_id),
            **({"offering_id": str(known.offering_id)} if known else {}),
        },
        received,
    )


async def assessment_passed(
    conn: AsyncConnection, event: AssessmentPassed, received: Received
) -> None:
    await _result(conn, event, Kind.RESULT_PASSED, "passed", received)


async def assessment_failed(
    conn: AsyncConnection, event: AssessmentFailed, received: Received
) -> None:
    await _result(conn, event, Kind.RESULT_NOT_YET, "not_yet", received)
