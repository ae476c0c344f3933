"""Building and publishing catalogue items through the HTTP API, for the tests."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from credstack.testing import ServiceUnderTest, Tokens

PROPOSER = "staff-proposer"
APPROVER = "approver-1"


def draft(code: str = "MC-DATA-101", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "title": "Data Cleaning for Analysts",
        "summary": "Prepare messy data for trustworthy analysis.",
        "description": "Profiling, cleaning and documenting real datasets.",
        "learning_outcomes": [
            {"id": "LO1", "description": "Profile a dataset"},
            {"id": "LO2", "description": "Document cleaning decisions"},
        ],
        "alignments": [
            {
                "name": "Data quality",
                "url": "https://esco.example/skill/42",
                "code": "S42",
                "framework": "ESCO",
            }
        ],
        "category": "professional-development",
        "field_of_study": "Information Technology",
        "credit_points": "3.125",
        "notional_hours": "65",
        "contact_hours": "12",
        "delivery_modes": ["on-campus"],
        "assessment_description": "A cleaned dataset and a 1,250-word report.",
        "assessment_word_equivalent": 1250,
        "fee_cents": 99000,
        "strategic_plan_alignment": "Advances lifelong learning for the professions.",
        "convenor": "Dr Ada Byron",
    }
    return body | changes


async def propose(
    catalogue: ServiceUnderTest, tokens: Tokens, code: str = "MC-DATA-101", **changes: Any
) -> httpx.Response:
    return await catalogue.http.post(
        "/micro-credentials", json=draft(code, **changes), headers=tokens("staff", PROPOSER)
    )


async def act(
    catalogue: ServiceUnderTest, tokens: Tokens, code: str, action: str
) -> httpx.Response:
    role, subject = (
        ("staff", PROPOSER)
        if action in ("submit", "return", "revisions")
        else ("approver", APPROVER)
    )
    return await catalogue.http.post(
        f"/micro-credentials/{code}/{action}", headers=tokens(role, subject)
    )


async def publish(
    catalogue: ServiceUnderTest, tokens: Tokens, code: str = "MC-DATA-101", **changes: Any
) -> dict[str, Any]:
    created = await propose(catalogue, tokens, code, **changes)
    assert created.status_code == 201, created.text
    for action in ("submit", "approve", "publish"):
        response = await act(catalogue, tokens, code, action)
        assert response.status_code == 200, response.text
    return dict(response.json())


def offering(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "starts_on": (date.today() + timedelta(days=30)).isoformat(),
        "ends_on": (date.today() + timedelta(days=60)).isoformat(),
        "enrolment_opens_at": (now - timedelta(days=1)).isoformat(),
        "enrolment_closes_at": (now + timedelta(days=20)).isoformat(),
        "capacity": 25,
        "delivery_mode": "on-campus",
        "location": "Canberra, Acton campus",
    }
    return body | changes


async def schedule(
    catalogue: ServiceUnderTest, tokens: Tokens, code: str, **changes: Any
) -> httpx.Response:
    return await catalogue.http.post(
        f"/micro-credentials/{code}/offerings", json=offering(**changes), headers=tokens("staff")
    )
