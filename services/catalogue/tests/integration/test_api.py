from datetime import UTC, datetime, timedelta
from typing import Any

from catalogue import tables
from credstack.testing import ServiceUnderTest, Tokens, staged_events


def draft(**changes: Any) -> dict[str, Any]:
    body = {
        "code": "MC-DATA-101",
        "title": "Data Cleaning",
        "description": "Prepare messy data for analysis.",
        "learning_outcomes": [{"id": "LO1", "description": "Clean a dataset"}],
        "credit_points": "3.125",
        "notional_hours": "65",
        "fee_cents": 99000,
    }
    return body | changes


async def publish(catalogue: ServiceUnderTest, tokens: Tokens, **changes: Any) -> dict[str, Any]:
    created = await catalogue.http.post(
        "/micro-credentials", json=draft(**changes), headers=tokens("staff", "proposer")
    )
    assert created.status_code == 201, created.text
    item_id = created.json()["id"]
    for action, role in (("submit", "staff"), ("approve", "approver"), ("publish", "approver")):
        response = await catalogue.http.post(
            f"/micro-credentials/{item_id}/{action}", headers=tokens(role, f"{role}-1")
        )
        assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_published_micro_credential_is_public_and_announced(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    item = await publish(catalogue, tokens)

    public = await catalogue.http.get("/micro-credentials/mc-data-101")
    assert public.status_code == 200
    assert public.json()["status"] == "published"
    assert public.json()["pass_mark"] == 70
    assert public.json()["credit_points"] == 3.125
    events = await staged_events(catalogue.engine, tables.outbox)
    assert [e["type"] for e in events] == ["credstack.catalogue.MicroCredentialPublished.v1"]
    assert events[0]["subject"] == item["id"]
    assert events[0]["data"]["learning_outcomes"] == [
        {"id": "LO1", "description": "Clean a dataset"}
    ]


async def test_the_proposer_cannot_approve_their_own_micro_credential(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await catalogue.http.post(
        "/micro-credentials", json=draft(), headers=tokens("approver", "same-person")
    )
    item_id = created.json()["id"]
    await catalogue.http.post(
        f"/micro-credentials/{item_id}/submit", headers=tokens("approver", "same-person")
    )

    response = await catalogue.http.post(
        f"/micro-credentials/{item_id}/approve", headers=tokens("approver", "same-person")
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/self-approval")


async def test_an_offering_needs_a_published_version(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await catalogue.http.post("/micro-credentials", json=draft(), headers=tokens("staff"))
    now = datetime.now(UTC)
    response = await catalogue.http.post(
        f"/micro-credentials/{created.json()['id']}/offerings",
        headers=tokens("staff"),
        json={
            "starts_on": "2027-02-01",
            "ends_on": "2027-03-01",
            "enrolment_opens_at": now.isoformat(),
            "enrolment_closes_at": (now + timedelta(days=20)).isoformat(),
            "capacity": 20,
            "delivery_mode": "on-campus",
        },
    )
    assert response.status_code == 409
    assert await staged_events(catalogue.engine, tables.outbox) == []


async def test_scheduling_an_offering_announces_it_with_the_exact_version(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    item = await publish(catalogue, tokens)
    now = datetime.now(UTC)
    response = await catalogue.http.post(
        f"/micro-credentials/{item['id']}/offerings",
        headers=tokens("staff"),
        json={
            "starts_on": "2027-02-01",
            "ends_on": "2027-03-01",
            "enrolment_opens_at": now.isoformat(),
            "enrolment_closes_at": (now + timedelta(days=20)).isoformat(),
            "capacity": 20,
            "delivery_mode": "on-campus",
        },
    )
    assert response.status_code == 201, response.text
    scheduled = (await staged_events(catalogue.engine, tables.outbox))[-1]
    assert scheduled["type"] == "credstack.catalogue.OfferingScheduled.v1"
    assert scheduled["data"]["micro_credential_version"] == 1
    assert scheduled["data"]["fee_cents"] == 99000


async def test_staff_actions_need_a_token_with_the_right_scope(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    anonymous = await catalogue.http.post("/micro-credentials", json=draft())
    learner = await catalogue.http.post(
        "/micro-credentials", json=draft(), headers=tokens("learner")
    )
    forged = await catalogue.http.post(
        "/micro-credentials", json=draft(), headers={"Authorization": "Bearer not.a.token"}
    )

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert learner.status_code == 403
    assert forged.status_code == 401
    assert await staged_events(catalogue.engine, tables.outbox) == []


async def test_a_bad_draft_gets_a_problem_detail_and_changes_nothing(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    response = await catalogue.http.post(
        "/micro-credentials", json=draft(pass_mark=120, credit_points="-1"), headers=tokens("staff")
    )
    malformed = await catalogue.http.post(
        "/micro-credentials",
        content=b"{not json",
        headers={**tokens("staff"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    assert {tuple(e["location"]) for e in problem["errors"]} >= {
        ("body", "pass_mark"),
        ("body", "credit_points"),
    }
    assert malformed.status_code == 400
    assert (await catalogue.http.get("/micro-credentials/MC-DATA-101")).status_code == 404


async def test_operations_endpoints_report_health_readiness_and_metrics(
    catalogue: ServiceUnderTest,
) -> None:
    assert (await catalogue.http.get("/healthz")).json() == {"status": "ok"}
    ready = await catalogue.http.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
    metrics = await catalogue.http.get("/metrics")
    assert "credstack_http_requests_total" in metrics.text
