"""The console's API over HTTP: overview and attention from the read models, and the
actions' error paths (every refusal a problem detail)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

from catalogue import tables as catalogue_tables
from catalogue.main import create_app as create_catalogue
from catalogue.settings import Settings as CatalogueSettings
from credstack import engines
from credstack.contracts import assessment, catalogue, enrolment, issuer
from credstack.testing import (
    ServiceUnderTest,
    Tokens,
    deliver,
    migrate_once,
    running_service,
    service_settings,
    truncate,
)
from dashboard import tables
from dashboard.main import create_app
from dashboard.settings import Settings

from .sse import served

PROBLEM = "application/problem+json"


def code_of(problem: dict[str, object]) -> str:
    """The stable code a problem detail's `type` URI ends with."""
    return str(problem["type"]).rsplit("/", 1)[-1]


def journey_events() -> tuple[list[object], dict[str, object]]:
    at = datetime.now(UTC)
    ids = {"offering": uuid4(), "mc": uuid4(), "learner": uuid4(), "enrolment": uuid4()}
    offering = catalogue.OfferingScheduled(
        offering_id=ids["offering"],
        micro_credential_id=ids["mc"],
        micro_credential_version=1,
        code="MC-CONSOLE",
        title="Console Testing",
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=30),
        enrolment_opens_at=at,
        enrolment_closes_at=at + timedelta(days=5),
        capacity=20,
        delivery_mode="on-campus",
        fee_cents=1000,
    )
    e = ids["enrolment"]
    events: list[object] = [
        offering,
        enrolment.IntegrityDeclarationAccepted(
            learner_id=ids["learner"], version=1, accepted_at=at
        ),
        enrolment.EnrolmentRequested(
            enrolment_id=e,
            learner_id=ids["learner"],
            offering_id=ids["offering"],
            micro_credential_id=ids["mc"],
            micro_credential_version=1,
            requested_at=at,
        ),
        enrolment.EnrolmentConfirmed(
            enrolment_id=e,
            learner_id=ids["learner"],
            learner_name="Ada Lovelace",
            email="ada@example.org",
            offering_id=ids["offering"],
            micro_credential_id=ids["mc"],
            micro_credential_version=1,
            confirmed_at=at,
        ),
        assessment.GradeRecorded(
            enrolment_id=e, score=Decimal(90), source="moodle", recorded_at=at
        ),
        assessment.AssessmentPassed(
            enrolment_id=e,
            learner_id=ids["learner"],
            micro_credential_id=ids["mc"],
            micro_credential_version=1,
            decided_at=at,
            score=Decimal(90),
        ),
        issuer.CredentialIssued(
            credential_id=uuid4(),
            learner_id=ids["learner"],
            enrolment_id=e,
            micro_credential_id=ids["mc"],
            micro_credential_version=1,
            url="https://issuer.example/credentials/1",
            issued_at=at + timedelta(seconds=2),
        ),
    ]
    return events, ids


async def test_the_overview_counts_a_journey_from_the_read_models(
    dashboard: ServiceUnderTest, tokens: Tokens
) -> None:
    events, ids = journey_events()
    for event in events:
        assert await deliver(dashboard.app, event) == "applied"  # type: ignore[arg-type]

    response = await dashboard.http.get("/console/overview", headers=tokens("staff"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["head"] == max(item["position"] for item in body["feed"])
    assert [item["type"].split(".")[2] for item in body["feed"]][-2:] == [
        "AssessmentPassed",
        "CredentialIssued",
    ]
    (funnel,) = [f for f in body["funnels"] if f["offering_id"] == str(ids["offering"])]
    assert funnel["counts"] == {
        "interested": 0,
        "enrolled": 1,
        "paid": 1,
        "declaration_accepted": 1,
        "graded": 1,
        "passed": 1,
        "credential_issued": 1,
        "attendance_certificates": 0,
    }
    assert funnel["daily"][-1]["paid"] == 1
    assert body["latency"]["count"] == 1
    assert 1.5 <= body["latency"]["p50_seconds"] <= 2.5


async def test_the_console_refuses_callers_who_are_not_staff(
    dashboard: ServiceUnderTest, tokens: Tokens
) -> None:
    for path in ("/console/overview", "/console/attention"):
        anonymous = await dashboard.http.get(path)
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith(PROBLEM)
        learner = await dashboard.http.get(path, headers=tokens("learner"))
        assert learner.status_code == 403
        assert code_of(learner.json()) == "insufficient-scope"


async def test_attention_lists_waiting_enrolments_and_names_services_it_could_not_ask(
    dashboard_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    nowhere = f"http://127.0.0.1:{engines.free_port()}"
    settings = dashboard_settings(
        catalogue_url=nowhere, enrolment_url=nowhere, assessment_url=nowhere, issuer_url=nowhere
    )
    async for service in running_service(create_app, settings, tables.metadata, "dashboard"):
        events, ids = journey_events()
        for event in events[:3]:  # requested, not paid
            await deliver(service.app, event)  # type: ignore[arg-type]
        response = await service.http.get("/console/attention", headers=tokens("staff"))
        assert response.status_code == 200, response.text
        body = response.json()
        (waiting,) = [
            i for i in body["items"] if i["ids"].get("enrolment_id") == str(ids["enrolment"])
        ]
        assert (waiting["kind"], waiting["actions"]) == ("awaiting-payment", ["withdraw"])
        assert body["unavailable"] == [
            "approvals",
            "assessment",
            "catalogue",
            "enrolment",
            "issuer",
            "moodle",
            "quarantined",
            "reviews",
        ]


async def test_actions_refused_or_unreachable_come_back_as_problem_details(
    dashboard_settings: Callable[..., Settings],
    database_url: str,
    kafka_bootstrap: str,
    tokens: Tokens,
    tmp_path: Path,
) -> None:
    await asyncio.to_thread(migrate_once, database_url, "catalogue")
    await truncate(database_url, catalogue_tables.metadata)
    catalogue_app = create_catalogue(
        service_settings(
            CatalogueSettings,
            database_url=database_url,
            kafka_bootstrap=kafka_bootstrap,
            tokens=tokens,
            data_dir=tmp_path,
        )
    )
    nowhere = f"http://127.0.0.1:{engines.free_port()}"
    async with served(catalogue_app) as catalogue_url:
        settings = dashboard_settings(catalogue_url=catalogue_url, issuer_url=nowhere)
        async for service in running_service(create_app, settings, tables.metadata, "dashboard"):
            staff = tokens("staff")
            # The owning service refuses (no such item): its problem travels in `upstream`.
            refused = await service.http.post(
                "/console/actions/micro-credentials/MC-NONE/approve-and-publish", headers=staff
            )
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"].startswith(PROBLEM)
            problem = refused.json()
            assert code_of(problem) == "refused-by-service"
            assert problem["service"] == "catalogue"
            assert problem["upstream_status"] in (403, 404)
            assert problem["upstream"]["status"] == problem["upstream_status"]
            # The owning service cannot be reached.
            unreachable = await service.http.post(
                f"/console/actions/credentials/{uuid4()}/revoke",
                json={"reason": "issued in error"},
                headers=staff,
            )
            assert unreachable.status_code == 503, unreachable.text
            assert code_of(unreachable.json()) == "service-unavailable"
            # Bad input is refused by the dashboard before anything is asked.
            for path, body in (
                (f"/console/actions/credentials/{uuid4()}/revoke", {"reason": ""}),
                (f"/console/actions/credentials/{uuid4()}/destroy", {"reason": "x"}),
                ("/console/actions/parked-events/nowhere/1/replay", None),
                ("/console/actions/parked-events/catalogue/0/replay", None),
                ("/console/actions/micro-credentials/bad code!/approve-and-publish", None),
            ):
                bad = await service.http.post(path, json=body, headers=staff)
                assert 400 <= bad.status_code < 500 and bad.status_code != 409, (path, bad.text)
                assert bad.headers["content-type"].startswith(PROBLEM), path
            # Only staff may act.
            learner = await service.http.post(
                "/console/actions/micro-credentials/MC-NONE/approve-and-publish",
                headers=tokens("learner"),
            )
            assert learner.status_code == 403


async def test_an_older_decision_arriving_late_does_not_overwrite_a_newer_one(
    dashboard: ServiceUnderTest, tokens: Tokens
) -> None:
    """A withdrawal (sequence 2) read before its pass (sequence 1): the funnel counts no
    pass; a regrade to pass (sequence 3) then counts it, and a stale fail (sequence 1,
    replayed) does not undo that."""
    events, ids = journey_events()
    before_outcome = [e for e in events if not isinstance(e, assessment.AssessmentPassed)]
    for event in before_outcome[:-1]:  # everything up to the grade; no credential
        assert await deliver(dashboard.app, event) == "applied"  # type: ignore[arg-type]
    at = datetime.now(UTC)
    common = {
        "enrolment_id": ids["enrolment"],
        "learner_id": ids["learner"],
        "micro_credential_id": ids["mc"],
        "micro_credential_version": 1,
        "decided_at": at,
    }

    async def passed_count() -> int:
        response = await dashboard.http.get("/console/overview", headers=tokens("staff"))
        assert response.status_code == 200, response.text
        (funnel,) = [
            f for f in response.json()["funnels"] if f["offering_id"] == str(ids["offering"])
        ]
        return int(funnel["counts"]["passed"])

    withdrawal = assessment.ResultWithdrawn(
        **common, sequence=2, reason="misconduct", released_outcome="passed"
    )
    stale_pass = assessment.AssessmentPassed(**common, sequence=1, score=Decimal(90))
    assert await deliver(dashboard.app, withdrawal) == "applied"
    assert await deliver(dashboard.app, stale_pass) == "applied"
    assert await passed_count() == 0

    regraded = assessment.AssessmentPassed(
        **{**common, "decided_at": at + timedelta(minutes=5)}, sequence=3, score=Decimal(95)
    )
    stale_fail = assessment.AssessmentFailed(**common, sequence=1, score=Decimal(40))
    assert await deliver(dashboard.app, regraded) == "applied"
    assert await deliver(dashboard.app, stale_fail) == "applied"
    assert await passed_count() == 1
