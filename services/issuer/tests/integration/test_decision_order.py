"""Decisions about an enrolment converge on the newest, in whatever order they arrive."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from credstack.contracts.envelope import Event
from credstack.testing import ServiceUnderTest, deliver

from ..events import Learner, micro_credential, passed, withdrawn
from .conftest import issued


@dataclass(frozen=True)
class Story:
    """Pass (1), withdrawn by a regrade (2), passed again (3) — and what stands after each."""

    name: str
    sequences: tuple[int, ...]
    live: bool  # whether the newest decision leaves a live credential


STORIES = [
    Story("pass then withdrawal", (1, 2), live=False),
    Story("pass, withdrawal, pass again", (1, 2, 3), live=True),
]


def decisions(enrolment: object, sequences: tuple[int, ...]) -> list[Event]:
    made: list[Event] = []
    for n in sequences:
        if n % 2:
            made.append(passed(enrolment, score="80").model_copy(update={"sequence": n}))  # type: ignore[arg-type]
        else:
            made.append(
                withdrawn(enrolment, "regraded", "passed").model_copy(update={"sequence": n})  # type: ignore[arg-type]
            )
    return made


@pytest.mark.parametrize(
    ("story", "order"),
    [
        (story, order)
        for story in STORIES
        for order in itertools.permutations(range(len(story.sequences)))
    ],
    ids=lambda v: v.name if isinstance(v, Story) else "-".join(map(str, v)),
)
async def test_every_order_of_delivery_converges_on_the_newest_decision(
    issuer: ServiceUnderTest, story: Story, order: tuple[int, ...]
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver(issuer.app, item)
    await deliver(issuer.app, enrolment)
    made = decisions(enrolment, story.sequences)
    for index in order:
        await deliver(issuer.app, made[index])
    live = [row for row in await issued(issuer) if row.status == "active"]
    assert len(live) == (1 if story.live else 0)
    # A redelivery of everything (new event ids: a replay) changes nothing.
    for event in made:
        await deliver(issuer.app, event)
    assert [row for row in await issued(issuer) if row.status == "active"] == live


async def test_a_withdrawal_before_its_pass_is_remembered_and_the_stale_pass_issues_nothing(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver(issuer.app, item)
    await deliver(issuer.app, enrolment)
    pass_, withdrawal = decisions(enrolment, (1, 2))
    await deliver(issuer.app, withdrawal)
    await deliver(issuer.app, pass_)  # e.g. a parked pass replayed after the withdrawal
    assert await issued(issuer) == []


async def test_a_re_announced_pass_with_the_same_sequence_issues_exactly_one_credential(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner()
    enrolment = ada.confirmed(item)
    await deliver(issuer.app, item)
    await deliver(issuer.app, enrolment)
    (pass_,) = decisions(enrolment, (1,))
    await deliver(issuer.app, pass_)
    await deliver(issuer.app, pass_)  # the reconciler's re-announcement: a new event id
    assert len(await issued(issuer)) == 1
