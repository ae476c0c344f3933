from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from catalogue.domain import (
    InvalidOffering,
    MicroCredential,
    OfferingPlan,
    PolicyBreach,
    SelfApproval,
    Session,
    Stack,
    StackMember,
    Status,
    WrongStatus,
    co_taught_undergraduate,
    schedule_offering,
)
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
        "assessment_description": "A report",
        "strategic_plan_alignment": "Lifelong learning",
        "convenor": "Dr X",
        "proposed_by": "alice",
    }
    values.update(changes)
    return MicroCredential(**values)  # type: ignore[arg-type]


def published(**changes: object) -> MicroCredential:
    item = micro_credential(**changes)
    item.submit()
    item.approve("bob")
    item.publish(T0, stacks=[])
    return item


def rules(item: MicroCredential) -> set[str]:
    return {b.split(":")[0] for b in item.policy_breaches()}


def test_the_pass_mark_defaults_to_seventy_percent() -> None:
    assert micro_credential().pass_mark == Decimal(70)


def test_cpd_points_default_to_one_per_notional_hour() -> None:
    assert micro_credential().cpd_points == Decimal(65)
    assert micro_credential(cpd_hours=Decimal(20)).cpd_points == Decimal(20)


def test_approval_by_another_person_then_publication_snapshots_the_version() -> None:
    item = micro_credential()
    item.submit()
    item.approve("bob")
    event = item.publish(T0, stacks=[])

    assert item.status is Status.PUBLISHED
    assert item.review_due_on == date(2027, 11, 1)
    assert (event.version, event.pass_mark, event.cpd_hours) == (1, Decimal(70), Decimal(65))
    assert [o.id for o in event.learning_outcomes] == ["LO1"]


def test_the_proposer_cannot_approve() -> None:
    item = micro_credential()
    item.submit()
    with pytest.raises(SelfApproval):
        item.approve("alice")


def test_a_refusal_names_every_broken_rule() -> None:
    with pytest.raises(PolicyBreach) as refused:
        micro_credential(learning_outcomes=[], convenor="").submit()
    assert [b.split(":")[0] for b in refused.value.breaches] == ["learning-outcomes", "convenor"]


def test_synchronous_online_delivery_needs_a_recorded_approval() -> None:
    assert "online-delivery" in rules(micro_credential(delivery_modes=["synchronous-online"]))
    approved = micro_credential(
        delivery_modes=["synchronous-online"], online_delivery_approval="AQAC-1"
    )
    assert approved.policy_breaches() == []


@pytest.mark.parametrize(
    ("course", "undergraduate"),
    [
        ("COMP1100", True),
        ("econ2101", True),
        ("LAWS 3001", True),
        ("COMP4600", False),
        ("COMP8410", False),
    ],
)
def test_micro_credentials_cannot_be_co_taught_with_early_undergraduate_courses(
    course: str, undergraduate: bool
) -> None:
    assert co_taught_undergraduate(course) is undergraduate
    assert ("co-teaching" in rules(micro_credential(co_taught_courses=[course]))) is undergraduate


def test_other_languages_are_allowed_and_a_language_micro_credential_states_its_level() -> None:
    assert micro_credential(language="fr").policy_breaches() == []
    assert "language-level" in rules(
        micro_credential(language="ja", is_language_micro_credential=True)
    )
    assert "language" in rules(micro_credential(language="Français"))


def test_notional_hours_outside_twenty_to_twenty_three_per_point_only_warn() -> None:
    assert micro_credential(notional_hours=Decimal(65)).warnings() == []
    assert micro_credential(notional_hours=Decimal(80)).warnings()
    assert micro_credential(notional_hours=Decimal(80)).policy_breaches() == []


def test_only_an_approved_version_can_be_published() -> None:
    with pytest.raises(WrongStatus):
        micro_credential().publish(T0, stacks=[])


def test_a_revision_is_a_new_draft_version_and_the_published_one_stays() -> None:
    item = published()
    revised = item.revision(2, proposed_by="carol")
    assert (revised.version, revised.status, revised.approved_by) == (2, Status.DRAFT, None)
    assert item.status is Status.PUBLISHED


def test_a_disestablished_item_cannot_be_scheduled() -> None:
    item = published()
    item.disestablish(T0)
    with pytest.raises(WrongStatus):
        schedule_offering(item, uuid4(), plan())


def plan(**changes: object) -> OfferingPlan:
    values: dict[str, object] = {
        "starts_on": date(2027, 2, 1),
        "ends_on": date(2027, 3, 1),
        "enrolment_opens_at": T0,
        "enrolment_closes_at": T0 + timedelta(days=30),
        "capacity": 20,
        "delivery_mode": "on-campus",
    }
    values.update(changes)
    return OfferingPlan(**values)  # type: ignore[arg-type]


def test_an_offering_takes_the_items_fee_and_convenor_unless_set() -> None:
    _, event = schedule_offering(published(fee_cents=50000), uuid4(), plan())
    assert (event.fee_cents, event.convenor, event.micro_credential_version) == (50000, "Dr X", 1)
    _, discounted = schedule_offering(published(fee_cents=50000), uuid4(), plan(fee_cents=0))
    assert discounted.fee_cents == 0


def test_an_offering_needs_an_approved_delivery_mode() -> None:
    with pytest.raises(InvalidOffering, match="not approved"):
        schedule_offering(published(), uuid4(), plan(delivery_mode="external-on-site"))


def test_a_cancelled_offering_cannot_be_rescheduled() -> None:
    offering, _ = schedule_offering(published(), uuid4(), plan())
    offering.cancel("low numbers", T0)
    with pytest.raises(InvalidOffering):
        offering.reschedule(plan(), T0)


def session(starts_at: datetime, hours: int = 3, **changes: object) -> Session:
    values: dict[str, object] = {"venue": "Room 1.23"} | changes
    return Session(starts_at, starts_at + timedelta(hours=hours), **values)  # type: ignore[arg-type]


def test_sessions_fall_on_the_offerings_dates_in_its_time_zone() -> None:
    """The offering ends on 1 March (Sydney): 23:00 UTC on 28 February is already 1 March
    there (inside), 14:00 UTC on 1 March is already 2 March (outside)."""
    inside = session(datetime(2027, 2, 28, 23, tzinfo=UTC), hours=2)
    outside = session(datetime(2027, 3, 1, 14, tzinfo=UTC), hours=1)

    assert plan(sessions=(inside,)).problems() == []
    assert plan(sessions=(outside,), time_zone="UTC").problems() == []
    (problem,) = plan(sessions=(outside,)).problems()
    assert "is outside the offering's dates (2027-02-01 to 2027-03-01)" in problem


def test_a_session_is_at_a_venue_or_online_and_as_many_as_the_contact_sessions() -> None:
    start = datetime(2027, 2, 2, 8, tzinfo=UTC)
    online = session(start, venue=None, online=True, join_note="Link by email")

    assert plan(sessions=(online,), contact_sessions=1).problems() == []
    assert plan(sessions=(), contact_sessions=4).problems() == []  # not planned yet
    assert plan(sessions=(online,), contact_sessions=2).problems() == [
        "contact_sessions is 2 but the plan lists 1 sessions"
    ]
    assert len(plan(sessions=(session(start, venue=None),)).problems()) == 1
    assert len(plan(sessions=(session(start, online=True),)).problems()) == 1
    assert len(plan(sessions=(session(start, hours=0),)).problems()) == 1
    assert (
        plan(sessions=(online,), time_zone="Mars/Olympus")
        .problems()[0]
        .startswith("unknown time zone")
    )


def member(points: str = "3.125", status: Status = Status.PUBLISHED) -> StackMember:
    return StackMember(uuid4(), f"MC-{uuid4().hex[:4]}", Decimal(points), status)


def stack(**changes: object) -> Stack:
    values: dict[str, object] = {
        "id": uuid4(),
        "version": 1,
        "code": "SERIES-1",
        "title": "Data series",
        "description": "Four micro-credentials",
        "kind": "series",
        "members": [member() for _ in range(4)],
        "proposed_by": "alice",
    }
    values.update(changes)
    return Stack(**values)  # type: ignore[arg-type]


def test_a_series_of_four_micro_credentials_of_3_125_points_is_12_5_points() -> None:
    series = stack()
    series.submit()
    series.approve("bob")
    event = series.publish(T0)
    assert event.credit_points == Decimal("12.5")
    assert len(event.members) == 4


def test_a_stack_needs_two_or_more_published_members_and_a_sane_completion_rule() -> None:
    breaches = stack(members=[member()], required_count=3).policy_breaches()
    assert {b.split(":")[0] for b in breaches} == {"stack-members", "stack-completion"}
    assert stack(members=[member(), member(status=Status.DRAFT)]).policy_breaches()
