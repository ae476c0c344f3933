"""A resend and an erasure by staff are recorded in the audit log, in their own transaction."""

from typing import Any
from uuid import uuid4

import pytest

from credstack.testing import ServiceUnderTest, audit_entries, fail_after_audit
from notifier import mail, tables

from ..events import Learner, micro_credential, offering_of
from .conftest import deliver_all, messages


async def test_an_erasure_is_recorded_and_rolls_back_with_its_entry(
    notifier: ServiceUnderTest, tokens: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = Learner()
    course = micro_credential()
    offering = offering_of(course)
    await deliver_all(notifier, ada.contact(), course, offering, ada.requested(offering, uuid4()))
    path = f"/admin/learners/{ada.id}/contact"

    with monkeypatch.context() as patched:
        inserted = fail_after_audit(patched, tables.audit)
        failed = await notifier.http.delete(path, headers=tokens("staff"))
    assert failed.status_code == 503 and len(inserted) == 1
    assert len(await messages(notifier)) == 1
    assert await audit_entries(notifier.engine, tables.audit) == []

    erased = await notifier.http.delete(path, headers=tokens("staff", "privacy-officer"))

    assert erased.status_code == 200
    assert await messages(notifier) == []
    [entry] = await audit_entries(notifier.engine, tables.audit)
    assert (entry["action"], entry["actor"], entry["target_type"], entry["target_id"]) == (
        "contact.erase",
        "privacy-officer",
        "learner",
        str(ada.id),
    )


async def test_a_resend_is_recorded_with_the_new_message(
    notifier: ServiceUnderTest, tokens: Any, sink: mail.MailSink
) -> None:
    ada = Learner()
    course = micro_credential()
    offering = offering_of(course)
    await deliver_all(notifier, ada.contact(), course, offering, ada.requested(offering, uuid4()))
    [message] = await messages(notifier)

    resent = await notifier.http.post(
        f"/admin/messages/{message.id}/resend", headers=tokens("staff", "helpdesk")
    )

    assert resent.status_code == 202, resent.text
    [entry] = await audit_entries(notifier.engine, tables.audit)
    assert (entry["action"], entry["actor"], entry["target_id"], entry["details"]) == (
        "message.resend",
        "helpdesk",
        str(message.id),
        {"new_message_id": resent.json()["id"]},
    )
