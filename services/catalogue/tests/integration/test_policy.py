"""The centre's policy, as settings, enforced when an item is submitted: each breach named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from catalogue import tables
from catalogue.main import create_app
from catalogue.settings import Settings
from credstack.testing import ServiceUnderTest, Tokens, running_service, service_settings

from .steps import act, propose, publish, schedule


def rules_of(response: object) -> dict[str, str]:
    problem = response.json()  # type: ignore[attr-defined]
    return {b.split(":")[0]: b for b in problem["breaches"]}


@pytest.mark.parametrize("pass_mark", [50, 69.9])
async def test_a_pass_mark_below_the_centres_minimum_is_refused(
    catalogue: ServiceUnderTest, tokens: Tokens, pass_mark: float
) -> None:
    await propose(catalogue, tokens, pass_mark=pass_mark)

    response = await act(catalogue, tokens, "MC-DATA-101", "submit")

    assert response.status_code == 422
    assert "minimum pass mark of 70%" in rules_of(response)["pass-mark"]


async def test_a_pass_mark_of_80_passes_the_policy(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await propose(catalogue, tokens, pass_mark=80)
    assert (await act(catalogue, tokens, "MC-DATA-101", "submit")).status_code == 200


async def test_an_unknown_language_level_and_an_empty_outcome_are_named(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await propose(
        catalogue,
        tokens,
        is_language_micro_credential=True,
        language_level="Z9",
        learning_outcomes=[
            {"id": "LO1", "description": "Clean a data set"},
            {"id": "LO2", "description": "   "},
        ],
    )

    response = await act(catalogue, tokens, "MC-DATA-101", "submit")

    assert response.status_code == 422
    rules = rules_of(response)
    assert set(rules) == {"language-level", "learning-outcomes"}
    assert "Z9" in rules["language-level"] and "LO2" in rules["learning-outcomes"]


async def test_an_enrolment_window_closing_after_the_start_is_refused(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)

    response = await schedule(
        catalogue,
        tokens,
        "MC-DATA-101",
        starts_on=(date.today() + timedelta(days=10)).isoformat(),
        enrolment_closes_at=f"{date.today() + timedelta(days=12)}T00:00:00Z",
    )

    assert response.status_code == 422
    assert "enrolment-window" in response.json()["detail"]


async def test_a_review_dated_in_the_future_is_refused(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)

    response = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/reviews",
        json={"reviewed_on": (date.today() + timedelta(days=5 * 365)).isoformat()},
        headers=tokens("staff"),
    )

    assert response.status_code == 422
    assert rules_of(response).keys() == {"review-date"}


@pytest.fixture
async def strict_catalogue(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[ServiceUnderTest]:
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        policy_min_pass_mark=Decimal(80),
        policy_hours_per_credit_point_enforced=True,
        policy_language_levels=["Beginner", "Advanced"],
    )
    async for service in running_service(create_app, settings, tables.metadata, "catalogue"):
        yield service


async def test_the_policy_is_the_centres_settings(
    strict_catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await propose(
        strict_catalogue,
        tokens,
        pass_mark=75,
        notional_hours=10,
        is_language_micro_credential=True,
        language_level="B2",
    )

    response = await act(strict_catalogue, tokens, "MC-DATA-101", "submit")

    assert response.status_code == 422
    rules = rules_of(response)
    assert set(rules) == {"pass-mark", "notional-hours", "language-level"}
    assert "80%" in rules["pass-mark"] and "Beginner, Advanced" in rules["language-level"]
