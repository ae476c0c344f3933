from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from catalogue.domain import MicroCredential, PolicyBreach, SelfApproval, Status, WrongStatus
from credstack.contracts.catalogue import LearningOutcome

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def micro_credential(**changes: object) -> MicroCredential:
    values: dict[str, object] = {
        "id": uuid4(),
        "version": 1,
        "code": "MC-1",
        "title": "T",
        "description": "D",
        "learning_outcomes": [LearningOutcome(id="LO1", description="x")],
        "credit_points": Decimal("3.125"),
        "notional_hours": Decimal(65),
        "proposed_by": "alice",
    }
    values.update(changes)
    return MicroCredential(**values)  # type: ignore[arg-type]


def test_the_pass_mark_defaults_to_seventy_percent() -> None:
    assert micro_credential().pass_mark == Decimal(70)


def test_cpd_points_default_to_one_per_notional_hour() -> None:
    assert micro_credential().cpd_points == Decimal(65)
    assert micro_credential(cpd_hours=Decimal(20)).cpd_points == Decimal(20)


def test_approval_by_another_person_then_publication_snapshots_the_version() -> None:
    item = micro_credential()
    item.submit()
    item.approve("bob")
    event = item.publish(at=T0)

    assert item.status is Status.PUBLISHED
    assert event.version == 1
    assert event.pass_mark == Decimal(70)
    assert [o.id for o in event.learning_outcomes] == ["LO1"]


def test_the_proposer_cannot_approve() -> None:
    item = micro_credential()
    item.submit()
    with pytest.raises(SelfApproval):
        item.approve("alice")


def test_a_micro_credential_without_learning_outcomes_is_refused_naming_the_rule() -> None:
    with pytest.raises(PolicyBreach) as refused:
        micro_credential(learning_outcomes=[]).submit()
    assert refused.value.breaches[0].startswith("learning-outcomes")


def test_only_an_approved_version_can_be_published() -> None:
    with pytest.raises(WrongStatus):
        micro_credential().publish(at=T0)


def test_a_revision_is_a_new_draft_version() -> None:
    item = micro_credential()
    item.submit()
    item.approve("bob")
    item.publish(at=T0)
    revised = item.revision(2, proposed_by="carol")
    assert (revised.version, revised.status, revised.approved_by) == (2, Status.DRAFT, None)
    assert item.status is Status.PUBLISHED
