"""Each message from its trigger event: staged once per cause (redelivery and re-publishing
add nothing), sent with a stable Message-ID, in the learner's language."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from credstack.contracts.assessment import AssessmentFailed, AssessmentPassed
from credstack.contracts.catalogue import OfferingRescheduled, StackPublished
from credstack.contracts.enrolment import (
    DeclarationRequired,
    EnrolmentCancelled,
    EnrolmentWithdrawn,
    LearnerErased,
    PaymentFailed,
    PaymentRefunded,
    WaitlistSeatOffered,
)
from credstack.contracts.issuer import (
    CertificateOfAttendanceIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
)
from credstack.testing import ServiceUnderTest, deliver
from notifier import mail
from notifier.domain import Kind

from ..events import NOW, Learner, micro_credential, offering_of
from .conftest import deliver_all, inbox_of, messages, send_all


async def _enrolled(notifier: ServiceUnderTest, ada: Learner, **item: Any) -> tuple[Any, ...]:
    course = micro_credential(**item)
    offering = offering_of(course)
    enrolment_id = uuid4()
    await deliver_all(
        notifier, ada.contact(), course, offering, ada.requested(offering, enrolment_id)
    )
    return course, offering, enrolment_id


async def test_a_credential_issued_is_one_email_with_its_links_even_when_redelivered(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    ada = Learner()
    course, _, enrolment_id = await _enrolled(notifier, ada)
    issued = ada.issued(course, enrolment_id)
    event_id = uuid4()
    await deliver(notifier.app, issued, event_id=event_id)
    await deliver(notifier.app, issued, event_id=event_id)  # redelivered
    await deliver(notifier.app, issued)  # re-published under a new event id
    await send_all(notifier, sink)

    received = [m for m in inbox_of(sink) if "micro-credential" in m.headers["subject"]]
    assert len(received) == 1
    email = received[0]
    assert email.headers["to"] == ada.email
    assert email.headers["subject"] == "Your micro-credential: Data Cleaning"
    assert email.text.startswith("Dear Zoë Łukasiewicz,")
    assert f"http://localhost:8004/verify/{issued.credential_id}" in email.text
    assert "https://www.linkedin.com/profile/add?" in email.text
    row = next(r for r in await messages(notifier) if r.kind == Kind.CREDENTIAL_ISSUED)
    assert email.headers["message_id"] == f"<{row.id}@localhost>"
    assert row.sent_at is not None and row.to_address == ada.email


async def test_a_message_sent_twice_after_a_crash_keeps_its_message_id(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    """Simulates the crash between sending and marking: the row is sent again."""
    ada = Learner()
    course, _, enrolment_id = await _enrolled(notifier, ada)
    await deliver(notifier.app, ada.issued(course, enrolment_id))
    await send_all(notifier, sink)
    from sqlalchemy import update

    from notifier.tables import message

    async with notifier.engine.begin() as conn:
        await conn.execute(update(message).values(sent_at=None))
    await send_all(notifier, sink)
    ids = [m.headers["message_id"] for m in inbox_of(sink)]
    assert len(ids) == len(set(ids)) == 2  # received, credential issued: each stored once


async def test_the_message_waits_for_an_address_that_arrives_later_on_the_contact_topic(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    ada = Learner()
    course = micro_credential()
    offering = offering_of(course)
    enrolment_id = uuid4()
    await deliver_all(notifier, course, offering, ada.requested(offering, enrolment_id))
    assert await send_all(notifier, sink) == 0
    assert inbox_of(sink) == []
    await deliver(notifier.app, ada.contact())
    await send_all(notifier, sink)
    assert [m.headers["to"] for m in inbox_of(sink)] == [ada.email]


async def test_the_learners_language_then_the_courses_then_english(
    notifier: ServiceUnderTest, sink: mail.MailSink, tokens: Any
) -> None:
    chooses_french, taught_in_french, neither = Learner(), Learner(), Learner()
    english_course = micro_credential(title="Data Cleaning")
    french_course = micro_credential(title="Analyse de données", language="fr")
    for learner, course in (
        (chooses_french, english_course),
        (taught_in_french, french_course),
        (neither, english_course),
    ):
        offering = offering_of(course)
        await deliver_all(
            notifier, learner.contact(), course, offering, learner.requested(offering, uuid4())
        )
    chosen = await notifier.http.put(
        "/learners/me/preferences",
        json={"language": "fr"},
        headers=tokens("learner", chooses_french.subject),
    )
    assert chosen.status_code == 200, chosen.text
    await send_all(notifier, sink)
    subjects = {m.headers["to"]: m.headers["subject"] for m in inbox_of(sink)}
    assert subjects[chooses_french.email] == "Nous avons reçu votre inscription : Data Cleaning"
    assert subjects[taught_in_french.email] == (
        "Nous avons reçu votre inscription : Analyse de données"
    )
    assert subjects[neither.email] == "We received your enrolment: Data Cleaning"


async def test_an_unsupported_language_preference_is_refused_and_changes_nothing(
    notifier: ServiceUnderTest, tokens: Any
) -> None:
    header = tokens("learner", "learner-x")
    refused = await notifier.http.put(
        "/learners/me/preferences", json={"language": "tlh"}, headers=header
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/language-not-supported")
    assert (await notifier.http.get("/learners/me/preferences", headers=header)).json()[
        "language"
    ] is None


def _events_for(ada: Learner, course: Any, offering: Any, enrolment_id: Any) -> dict[Kind, list]:
    later = NOW + timedelta(hours=1)
    credential = ada.issued(course, enrolment_id)
    stack_id = uuid4()
    return {
        Kind.DECLARATION_NEEDED: [
            DeclarationRequired(
                enrolment_id=enrolment_id,
                learner_id=ada.id,
                offering_id=offering.offering_id,
                required_at=NOW,
            )
        ],
        Kind.ENROLMENT_CONFIRMED: [ada.confirmed(offering, enrolment_id)],
        Kind.PAYMENT_RECEIPT: [ada.confirmed(offering, enrolment_id, paid=45000)],
        Kind.PAYMENT_FAILED: [
            PaymentFailed(
                enrolment_id=enrolment_id, provider="local", reason="card declined", failed_at=NOW
            )
        ],
        Kind.PAYMENT_EXPIRED: [
            EnrolmentCancelled(
                enrolment_id=enrolment_id,
                reason="hold expired",
                cause="payment_expired",
                cancelled_at=NOW,
            )
        ],
        Kind.SEAT_OFFERED: [
            WaitlistSeatOffered(
                enrolment_id=enrolment_id,
                learner_id=ada.id,
                offering_id=offering.offering_id,
                offer_expires_at=NOW + timedelta(hours=48),
                offered_at=NOW,
            )
        ],
        Kind.OFFER_LAPSED: [
            EnrolmentCancelled(
                enrolment_id=enrolment_id,
                reason="waitlist seat offer not taken up in time",
                cause="offer_lapsed",
                cancelled_at=NOW,
            )
        ],
        Kind.OFFERING_RESCHEDULED: [
            OfferingRescheduled(
                offering_id=offering.offering_id,
                starts_on=offering.starts_on + timedelta(days=7),
                ends_on=offering.ends_on + timedelta(days=7),
                enrolment_opens_at=offering.enrolment_opens_at,
                enrolment_closes_at=offering.enrolment_closes_at,
                capacity=20,
                rescheduled_at=NOW,
            )
        ],
        Kind.OFFERING_CANCELLED: [
            EnrolmentCancelled(
                enrolment_id=enrolment_id,
                reason="offering cancelled: convenor ill",
                cause="offering_cancelled",
                cancelled_at=NOW,
            )
        ],
        Kind.ENROLMENT_CANCELLED: [
            EnrolmentCancelled(
                enrolment_id=enrolment_id, reason="cancelled by the learner", cancelled_at=NOW
            )
        ],
        Kind.WITHDRAWN: [
            EnrolmentWithdrawn(
                enrolment_id=enrolment_id,
                learner_id=ada.id,
                offering_id=offering.offering_id,
                reason="staff",
                withdrawn_at=NOW,
            )
        ],
        Kind.REFUND_ISSUED: [
            PaymentRefunded(
                enrolment_id=enrolment_id, provider="local", amount_cents=45000, refunded_at=NOW
            )
        ],
        Kind.RESULT_PASSED: [
            AssessmentPassed(
                enrolment_id=enrolment_id,
                learner_id=ada.id,
                micro_credential_id=course.micro_credential_id,
                micro_credential_version=1,
                decided_at=NOW,
                score=85,
            )
        ],
        Kind.RESULT_NOT_YET: [
            AssessmentFailed(
                enrolment_id=enrolment_id,
                learner_id=ada.id,
                micro_credential_id=course.micro_credential_id,
                micro_credential_version=1,
                decided_at=NOW,
                score=40,
            )
        ],
        Kind.CREDENTIAL_ISSUED: [credential],
        Kind.ATTENDANCE_ISSUED: [
            CertificateOfAttendanceIssued(
                credential_id=uuid4(),
                learner_id=ada.id,
                enrolment_id=enrolment_id,
                micro_credential_id=course.micro_credential_id,
                micro_credential_version=1,
                url="http://localhost:8004/credentials/a",
                issued_at=NOW,
            )
        ],
        Kind.STACK_ISSUED: [
            StackPublished(
                stack_id=stack_id,
                version=1,
                code="MC-SERIES",
                title="Data for Decisions",
                language="fr",
                description="A series",
                kind="series",
                members=[course.micro_credential_id, uuid4()],
                credit_points=5,
                published_at=NOW,
            ),
            StackCredentialIssued(
                credential_id=uuid4(),
                learner_id=ada.id,
                stack_id=stack_id,
                stack_version=1,
                member_credential_ids=[credential.credential_id],
                url="http://localhost:8004/credentials/s",
                issued_at=NOW,
            ),
        ],
        Kind.STACK_PROGRESS: [
            StackPublished(
                stack_id=stack_id,
                version=1,
                code="MC-SERIES",
                title="Data for Decisions",
                language="fr",
                description="A series",
                kind="series",
                members=[course.micro_credential_id, uuid4(), uuid4()],
                credit_points=7.5,
                published_at=NOW,
            ),
            credential,
        ],
        Kind.CREDENTIAL_REVOKED: [
            credential,
            CredentialRevoked(
                credential_id=credential.credential_id,
                learner_id=ada.id,
                reason="INTERNAL: misconduct case 2027-114, see file",
                revoked_at=later,
            ),
        ],
        Kind.CREDENTIAL_SUSPENDED: [
            credential,
            CredentialSuspended(
                credential_id=credential.credential_id,
                learner_id=ada.id,
                reason="INTERNAL: misconduct case 2027-114, see file",
                suspended_at=later,
            ),
        ],
        Kind.CREDENTIAL_REINSTATED: [
            credential,
            CredentialReinstated(
                credential_id=credential.credential_id, learner_id=ada.id, reinstated_at=later
            ),
        ],
    }


LEARNER_KINDS = [
    k
    for k in Kind
    # the expiry reminder follows a timer, not an event: test_expiry_reminders.py
    if k
    not in (
        Kind.INTEREST_CONFIRM,
        Kind.ENROLMENT_OPENED,
        Kind.ENROLMENT_RECEIVED,
        Kind.CREDENTIAL_EXPIRING,
    )
]


@pytest.mark.parametrize("kind", LEARNER_KINDS)
async def test_each_message_follows_its_event_once_and_in_the_learners_language(
    notifier: ServiceUnderTest, sink: mail.MailSink, kind: Kind
) -> None:
    ada = Learner()
    course, offering, enrolment_id = await _enrolled(notifier, ada, language="fr")
    events = _events_for(ada, course, offering, enrolment_id)[kind]
    for event in events:
        event_id = uuid4()
        await deliver(notifier.app, event, event_id=event_id)
        await deliver(notifier.app, event, event_id=event_id)  # redelivery: nothing new
    await deliver(notifier.app, events[-1])  # re-published: nothing new
    await send_all(notifier, sink)

    staged = [r for r in await messages(notifier) if r.kind == kind]
    assert len(staged) == 1
    assert staged[0].sent_at is not None and staged[0].language == "fr"
    sent = [m for m in inbox_of(sink) if m.headers["message_id"] == f"<{staged[0].id}@localhost>"]
    assert len(sent) == 1
    assert sent[0].text.startswith("Bonjour Zoë Łukasiewicz,")
    assert "INTERNAL" not in sent[0].text  # a revocation's reason is never passed on
    if kind is Kind.SEAT_OFFERED:
        assert "2027-01-12 20:00 (Australia/Sydney)" in sent[0].headers["subject"]
    if kind in (Kind.PAYMENT_RECEIPT, Kind.REFUND_ISSUED):
        assert "AUD 450.00" in sent[0].text
    if kind is Kind.STACK_PROGRESS:
        assert sent[0].headers["subject"] == "1 sur 3 pour Data for Decisions"


async def test_erasure_removes_contact_data_and_unsent_messages(
    notifier: ServiceUnderTest, sink: mail.MailSink, tokens: Any
) -> None:
    ada = Learner()
    course, offering, enrolment_id = await _enrolled(notifier, ada)
    await send_all(notifier, sink)
    await deliver(notifier.app, ada.confirmed(offering, enrolment_id))  # not sent yet
    await deliver(notifier.app, LearnerErased(learner_id=ada.id, erased_at=NOW))
    rows = await messages(notifier)
    assert [r.kind for r in rows] == [Kind.ENROLMENT_RECEIVED]
    assert rows[0].to_address is None and rows[0].facts == {} and rows[0].subject is None
    await deliver(notifier.app, ada.issued(course, enrolment_id))
    await send_all(notifier, sink)
    assert len(inbox_of(sink)) == 1  # nothing new goes out: no address is known


async def test_the_credential_email_follows_the_result_even_when_its_event_comes_first(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    """Results (assessment) and credentials (issuer) travel on different topics: the
    issuer's may be consumed first. The learner still reads "You passed" first."""
    from datetime import timedelta

    from notifier.usecases import sending

    from .conftest import sender_to

    ordered = sender_to(mail.SmtpTarget("127.0.0.1", sink.port))
    ordered = sending.Sender(**{**vars(ordered), "result_wait": timedelta(minutes=10)})
    ada = Learner()
    course, _, enrolment_id = await _enrolled(notifier, ada)
    await sending.send_pending(notifier.engine, ordered)  # "We received your enrolment"
    await deliver(notifier.app, ada.issued(course, enrolment_id))

    await sending.send_pending(notifier.engine, ordered)
    row = next(r for r in await messages(notifier) if r.kind == Kind.CREDENTIAL_ISSUED)
    assert row.sent_at is None and row.last_error == "waiting for the result message to go first"

    await deliver(
        notifier.app,
        AssessmentPassed(
            enrolment_id=enrolment_id,
            learner_id=ada.id,
            micro_credential_id=course.micro_credential_id,
            micro_credential_version=1,
            decided_at=NOW,
            score=85,
        ),
    )
    await sending.send_pending(notifier.engine, ordered)  # the result wakes the credential

    subjects = [m.headers["subject"] for m in inbox_of(sink)]
    assert subjects == [
        "We received your enrolment: Data Cleaning",
        "You passed: Data Cleaning",
        "Your micro-credential: Data Cleaning",
    ]
