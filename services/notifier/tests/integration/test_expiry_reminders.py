"""The "credential expiring soon" reminder: a timer over each credential's validUntil
(from CredentialIssued), N days before, once per credential, only for active credentials
of learners who keep reminders on."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import update

from credstack.contracts.enrolment import LearnerErased
from credstack.contracts.issuer import CredentialRevoked, CredentialSuspended
from credstack.testing import ServiceUnderTest, deliver
from notifier import mail, tables
from notifier.domain import Kind
from notifier.usecases import reminders

from ..events import NOW, Learner, micro_credential, offering_of
from .conftest import deliver_all, inbox_of, messages, send_all


async def _stage(notifier: ServiceUnderTest, at: Any = NOW, days_before: int = 30) -> int:
    async with notifier.engine.begin() as conn:
        return await reminders.stage_expiry_reminders(conn, at=at, days_before=days_before)


async def _holder(notifier: ServiceUnderTest, ada: Learner, **item: Any) -> Any:
    course = micro_credential(**item)
    offering = offering_of(course)
    await deliver_all(notifier, ada.contact(), course, offering)
    return course


async def test_a_credential_expiring_within_n_days_is_reminded_once_in_the_learners_language(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    ada = Learner()
    course = await _holder(notifier, ada, language="fr")
    soon = ada.issued(course, uuid4(), valid_until=NOW + timedelta(days=20))
    later = ada.issued(course, uuid4(), valid_until=NOW + timedelta(days=40))
    never = ada.issued(course, uuid4())
    await deliver_all(notifier, soon, later, never)

    assert await _stage(notifier) == 1
    assert await _stage(notifier) == 0  # the next pass (or another replica): nothing new
    await deliver(notifier.app, soon)  # re-published: the reminder is still once
    assert await _stage(notifier) == 0
    await send_all(notifier, sink)

    [reminder] = [r for r in await messages(notifier) if r.kind == Kind.CREDENTIAL_EXPIRING]
    assert reminder.dedup_key == f"credential_expiring:{soon.credential_id}"
    [email] = [m for m in inbox_of(sink) if m.headers["message_id"] == f"<{reminder.id}@localhost>"]
    expires_on = (NOW + timedelta(days=20)).date().isoformat()
    assert email.headers["subject"] == (
        f"Votre micro-certification Data Cleaning expire le {expires_on}"
    )
    assert f"http://localhost:8004/verify/{soon.credential_id}" in email.text
    assert f"http://localhost:8001/micro-credentials/{course.code}" in email.text

    # 15 days on, the second credential is within 30 days of its expiry
    assert await _stage(notifier, at=NOW + timedelta(days=15)) == 1
    # the setting moves the window: 45 days before, the second would have been reminded
    other = Learner()
    other_course = await _holder(notifier, other)
    await deliver(
        notifier.app, other.issued(other_course, uuid4(), valid_until=NOW + timedelta(days=40))
    )
    assert await _stage(notifier, days_before=30) == 0
    assert await _stage(notifier, days_before=45) == 1


async def test_no_reminder_for_a_revoked_or_suspended_credential_or_an_expired_one(
    notifier: ServiceUnderTest,
) -> None:
    ada = Learner()
    course = await _holder(notifier, ada)
    until = NOW + timedelta(days=10)
    revoked = ada.issued(course, uuid4(), valid_until=until)
    suspended = ada.issued(course, uuid4(), valid_until=until)
    expired = ada.issued(course, uuid4(), valid_until=NOW - timedelta(days=1))
    await deliver_all(
        notifier,
        revoked,
        suspended,
        expired,
        CredentialRevoked(
            credential_id=revoked.credential_id, learner_id=ada.id, reason="x", revoked_at=NOW
        ),
        CredentialSuspended(
            credential_id=suspended.credential_id, learner_id=ada.id, reason="x", suspended_at=NOW
        ),
    )
    assert await _stage(notifier) == 0


async def test_a_learner_who_turned_reminders_off_gets_none_until_they_turn_them_on(
    notifier: ServiceUnderTest, tokens: Any
) -> None:
    ada = Learner()
    course = await _holder(notifier, ada)
    await deliver(notifier.app, ada.issued(course, uuid4(), valid_until=NOW + timedelta(days=5)))
    header = tokens("learner", ada.subject)
    off = await notifier.http.put(
        "/learners/me/preferences", json={"reminders": False}, headers=header
    )
    assert off.status_code == 200, off.text
    assert await _stage(notifier) == 0
    on = await notifier.http.put(
        "/learners/me/preferences", json={"reminders": True}, headers=header
    )
    assert on.status_code == 200, on.text
    assert await _stage(notifier) == 1


async def test_an_erased_learner_is_not_reminded_again(notifier: ServiceUnderTest) -> None:
    """Erasure blanks a sent reminder but keeps its dedup key: nothing is staged anew."""
    ada = Learner()
    course = await _holder(notifier, ada)
    await deliver(notifier.app, ada.issued(course, uuid4(), valid_until=NOW + timedelta(days=5)))
    assert await _stage(notifier) == 1
    async with notifier.engine.begin() as conn:
        await conn.execute(update(tables.message).values(sent_at=NOW))
    await deliver(notifier.app, LearnerErased(learner_id=ada.id, erased_at=NOW))
    assert await _stage(notifier) == 0
