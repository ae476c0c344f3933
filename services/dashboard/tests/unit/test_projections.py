from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from credstack.contracts import assessment, catalogue, enrolment, issuer, notifier
from dashboard import feed, projections

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
E, L, OFFERING, M, C = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()


def passed(at: datetime = T0) -> assessment.AssessmentPassed:
    return assessment.AssessmentPassed(
        enrolment_id=E,
        learner_id=L,
        micro_credential_id=M,
        micro_credential_version=1,
        decided_at=at,
        score=Decimal(80),
    )


def issued(at: datetime) -> issuer.CredentialIssued:
    return issuer.CredentialIssued(
        credential_id=C,
        learner_id=L,
        enrolment_id=E,
        micro_credential_id=M,
        micro_credential_version=1,
        url="u",
        issued_at=at,
    )


def test_a_confirmed_enrolment_counts_as_requested_and_paid_at_once() -> None:
    change = projections.enrolment_change(
        enrolment.EnrolmentConfirmed(
            enrolment_id=E,
            learner_id=L,
            learner_name="Ada",
            email="a@example.org",
            offering_id=OFFERING,
            micro_credential_id=M,
            micro_credential_version=1,
            confirmed_at=T0,
        )
    )
    assert change is not None
    assert change.first["requested_at"] == change.first["confirmed_at"] == T0


def test_a_provisional_grade_is_not_a_milestone() -> None:
    grade = assessment.GradeRecorded(
        enrolment_id=E, score=Decimal(40), source="moodle", final=False, recorded_at=T0
    )
    assert projections.enrolment_change(grade) is None


def test_the_credential_keeps_its_issue_time_and_sets_the_status() -> None:
    change = projections.enrolment_change(issued(T0))
    assert change is not None
    assert change.first["credential_issued_at"] == T0
    assert change.latest == {"credential_status": "issued"}


def test_revocation_names_the_credential() -> None:
    revoked = issuer.CredentialRevoked(
        credential_id=C, learner_id=L, reason="misconduct", revoked_at=T0
    )
    assert projections.credential_status_change(revoked) == (C, "revoked")


def test_the_interested_count_is_the_notifiers_never_an_old_address_list() -> None:
    """Interest is the notifier's (double opt-in): it says how many it told. An old
    EnrolmentOpened's address list (catalogues before that) counts no one."""
    opened = catalogue.EnrolmentOpened(
        offering_id=OFFERING,
        micro_credential_id=M,
        code="DS101",
        title="Data",
        enrolment_closes_at=T0,
        interested_emails=["a@x.org", "b@x.org"],
        opened_at=T0,
    )
    change = projections.offering_change(opened)
    assert change is not None and "interested" not in change.values
    assert change.values["status"] == "open"
    told = notifier.EnrolmentOpeningAnnounced(
        offering_id=OFFERING, micro_credential_id=M, interested=3, announced_at=T0
    )
    assert projections.offering_change(told) == projections.OfferingChange(
        OFFERING, {"interested": 3}
    )
    assert feed.describe(told, offering="DS101 Data") == (
        "3 interested people were told that enrolment opened in DS101 Data"
    )
    assert "a@x.org" not in feed.describe(opened)


def test_a_transfer_files_the_events_under_the_new_offering() -> None:
    new = uuid4()
    moved = enrolment.EnrolmentTransferred(
        enrolment_id=E,
        learner_id=L,
        from_offering_id=OFFERING,
        to_offering_id=new,
        micro_credential_id=M,
        micro_credential_version=1,
        transferred_at=T0,
    )
    assert projections.subjects_of(moved).offering_id == new


def test_subjects_come_from_the_event_fields() -> None:
    subjects = projections.subjects_of(passed())
    assert (subjects.enrolment_id, subjects.learner_id, subjects.micro_credential_id) == (E, L, M)
    assert subjects.offering_id is None


def test_latency_is_from_grade_to_credential_and_never_negative() -> None:
    assert projections.latency_seconds(T0, T0 + timedelta(seconds=3)) == 3.0
    assert projections.latency_seconds(T0, T0 - timedelta(seconds=3)) == 0.0
    assert projections.latency_seconds(None, T0) is None


def test_the_feed_speaks_of_offerings_by_code_and_title() -> None:
    scheduled = catalogue.OfferingScheduled(
        offering_id=OFFERING,
        micro_credential_id=M,
        micro_credential_version=1,
        code="DS101",
        title="Data literacy",
        starts_on=date(2027, 2, 1),
        ends_on=date(2027, 3, 1),
        enrolment_opens_at=T0,
        enrolment_closes_at=T0,
        capacity=30,
        delivery_mode="online",
        fee_cents=0,
    )
    assert feed.describe(scheduled) == (
        "An offering of DS101 Data literacy was scheduled: starts 2027-02-01, 30 seats"
    )
    assert feed.describe(passed(), offering="DS101 Data literacy") == (
        "A learner passed in DS101 Data literacy with 80%"
    )


def test_every_registered_event_type_has_its_own_sentence() -> None:
    from credstack.contracts import event_types
    from dashboard import consumers

    assert set(consumers.handlers()) == {t for t in event_types().values() if not t.contact_data}


def test_the_dashboard_never_subscribes_to_learners_contact_details() -> None:
    from credstack.contracts.topics import CONTACT_TOPICS, topics_of
    from dashboard.consumers import handlers

    assert not set(topics_of(handlers())) & set(CONTACT_TOPICS.values())
