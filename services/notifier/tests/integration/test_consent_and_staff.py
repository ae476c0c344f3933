"""Interest with double opt-in and one-click unsubscribe; staff's view and resend;
refusals change nothing."""

import json
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

from credstack.contracts.catalogue import EnrolmentOpened
from credstack.testing import ServiceUnderTest, deliver, staged_events
from notifier import mail, tables
from notifier.domain import Kind
from notifier.usecases import sending

from ..events import NOW, Learner, micro_credential, offering_of
from .conftest import deliver_all, inbox_of, messages, send_all, sender_to


def opened(offering: Any) -> EnrolmentOpened:
    return EnrolmentOpened(
        offering_id=offering.offering_id,
        micro_credential_id=offering.micro_credential_id,
        code=offering.code,
        title=offering.title,
        enrolment_closes_at=offering.enrolment_closes_at,
        interested_emails=["legacy@example.org"],
        opened_at=NOW,
    )


def token_in(text: str, path: str) -> str:
    url = next(word for word in text.split() if path in word)
    return parse_qs(urlparse(url).query)["token"][0]


async def test_only_confirmed_interest_hears_of_an_opening_and_one_click_unsubscribes(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    course = micro_credential(title="Analyse de données", language="fr")
    first, second = offering_of(course), offering_of(course)
    await deliver_all(notifier, course, first, second)

    registered = await notifier.http.post(
        f"/micro-credentials/{course.code}/interest",
        json={"email": "Lea@Example.org", "language": "fr"},
    )
    assert registered.status_code == 202, registered.text
    await deliver(notifier.app, opened(first))  # not confirmed yet: nobody is told
    await send_all(notifier, sink)
    [confirmation] = inbox_of(sink)
    assert confirmation.headers["to"] == "lea@example.org"
    assert confirmation.headers["subject"].startswith("Confirmez")
    assert "legacy@example.org" not in [m.headers["to"] for m in inbox_of(sink)]

    token = token_in(confirmation.text, "/interest/confirm")
    page = await notifier.http.get("/interest/confirm", params={"token": token})
    assert page.status_code == 200 and "Analyse de données" in page.text
    await deliver(notifier.app, opened(second))
    await send_all(notifier, sink)
    announcement = inbox_of(sink)[-1]
    assert announcement.headers["subject"] == "Les inscriptions sont ouvertes : Analyse de données"
    unsubscribe_url = next(w for w in announcement.text.split() if "/unsubscribe" in w)

    # A GET (a link scanner) shows a button and changes nothing; the POST unsubscribes.
    shown = await notifier.http.get(unsubscribe_url)
    assert shown.status_code == 200 and 'method="post"' in shown.text
    done = await notifier.http.post(unsubscribe_url)
    assert done.status_code == 200
    third = offering_of(course)
    await deliver_all(notifier, third, opened(third))
    assert await send_all(notifier, sink) == 0
    assert [r.kind for r in await messages(notifier)] == [
        Kind.INTEREST_CONFIRM,
        Kind.ENROLMENT_OPENED,
    ]
    # the dashboard's count of interest: how many were told of each opening, no address
    announced = [
        e
        for e in await staged_events(notifier.engine, tables.outbox)
        if e["type"] == "credstack.notifier.EnrolmentOpeningAnnounced.v1"
    ]
    assert [(e["subject"], e["data"]["interested"]) for e in announced] == [
        (str(first.offering_id), 0),
        (str(second.offering_id), 1),
        (str(third.offering_id), 0),
    ]
    assert not any("@" in json.dumps(e["data"]) for e in announced)


async def test_interest_registration_is_rate_limited_per_client(
    notifier: ServiceUnderTest,
) -> None:
    """Each registration sends an email: per client, 10 a minute (and 50 a day)."""
    course = micro_credential()
    await deliver(notifier.app, course)
    answers = [
        (
            await notifier.http.post(
                f"/micro-credentials/{course.code}/interest", json={"email": f"a{i}@example.org"}
            )
        ).status_code
        for i in range(11)
    ]
    assert answers == [202] * 10 + [429]
    assert (await notifier.http.get("/learner")).status_code == 200, "each route counts alone"


async def test_the_announcement_carries_rfc_8058_one_click_headers(
    notifier: ServiceUnderTest, sink: mail.MailSink
) -> None:
    from email import policy
    from email.parser import BytesParser

    course = micro_credential()
    offering = offering_of(course)
    await deliver_all(notifier, course, offering)
    await notifier.http.post(
        f"/micro-credentials/{course.code}/interest", json={"email": "kim@example.org"}
    )
    await send_all(notifier, sink)
    token = token_in(inbox_of(sink)[0].text, "/interest/confirm")
    await notifier.http.get("/interest/confirm", params={"token": token})
    await deliver(notifier.app, opened(offering))
    await send_all(notifier, sink)
    newest = max(sink.folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    parsed = BytesParser(policy=policy.default).parsebytes(newest.read_bytes())
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/unsubscribe?token={token}" in parsed["List-Unsubscribe"]


async def test_bad_interest_requests_are_problems_and_change_nothing(
    notifier: ServiceUnderTest,
) -> None:
    course = micro_credential()
    await deliver(notifier.app, course)
    unknown = await notifier.http.post(
        "/micro-credentials/NOPE/interest", json={"email": "a@example.org"}
    )
    not_email = await notifier.http.post(
        f"/micro-credentials/{course.code}/interest", json={"email": "not an address"}
    )
    klingon = await notifier.http.post(
        f"/micro-credentials/{course.code}/interest",
        json={"email": "a@example.org", "language": "tlh"},
    )
    bad_token = await notifier.http.post("/unsubscribe", params={"token": "x" * 43})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert not_email.status_code == 422
    assert klingon.status_code == 422
    assert bad_token.status_code == 404
    assert await messages(notifier) == []


async def test_staff_see_failures_with_the_reason_and_resend(
    notifier: ServiceUnderTest, sink: mail.MailSink, tokens: Any
) -> None:
    ada = Learner()
    course = micro_credential()
    offering = offering_of(course)
    enrolment_id = uuid4()
    await deliver_all(
        notifier, ada.contact(), course, offering, ada.requested(offering, enrolment_id)
    )
    # Nothing listens on this port: every attempt fails, the second is the last.
    dead = sender_to(mail.SmtpTarget("127.0.0.1", sink.port + 1), max_attempts=2)
    await sending.send_pending(notifier.engine, dead)
    await sending.send_pending(notifier.engine, dead)
    staff = tokens("staff")

    learner_token = await notifier.http.get("/admin/messages", headers=tokens("learner"))
    assert learner_token.status_code == 403
    failed = (
        await notifier.http.get("/admin/messages", params={"status": "failed"}, headers=staff)
    ).json()["items"]
    assert [(m["kind"], m["attempts"]) for m in failed] == [("enrolment_received", 2)]
    assert failed[0]["last_error"]

    resent = await notifier.http.post(f"/admin/messages/{failed[0]['id']}/resend", headers=staff)
    assert resent.status_code == 202, resent.text
    assert resent.json()["resend_of"] == failed[0]["id"]
    await send_all(notifier, sink)
    [received] = inbox_of(sink)
    assert received.headers["message_id"] == f"<{resent.json()['id']}@localhost>"
    sent = (
        await notifier.http.get("/admin/messages", params={"status": "sent"}, headers=staff)
    ).json()["items"]
    assert [m["id"] for m in sent] == [resent.json()["id"]]
    missing = await notifier.http.post(f"/admin/messages/{uuid4()}/resend", headers=staff)
    assert missing.status_code == 404
    assert len(await messages(notifier)) == 2


async def test_staff_page_through_messages_newest_first(
    notifier: ServiceUnderTest, tokens: Any
) -> None:
    ada = Learner()
    course = micro_credential()
    offering = offering_of(course)
    await deliver_all(notifier, course, offering)
    for _ in range(3):
        await deliver(notifier.app, ada.requested(offering, uuid4()))
    staff = tokens("staff")
    first = (await notifier.http.get("/admin/messages?limit=2", headers=staff)).json()
    second = (
        await notifier.http.get(
            "/admin/messages", params={"limit": 2, "cursor": first["next_cursor"]}, headers=staff
        )
    ).json()
    ids = [m["id"] for m in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 3 and second["next_cursor"] is None
    garbage = await notifier.http.get("/admin/messages?cursor=abc", headers=staff)
    assert garbage.status_code == 400


async def test_staff_erase_a_learners_contact_data(
    notifier: ServiceUnderTest, tokens: Any, sink: mail.MailSink
) -> None:
    ada = Learner()
    course = micro_credential()
    offering = offering_of(course)
    await deliver_all(notifier, ada.contact(), course, offering, ada.requested(offering, uuid4()))
    erased = await notifier.http.delete(
        f"/admin/learners/{ada.id}/contact", headers=tokens("staff")
    )
    assert erased.status_code == 200
    assert await messages(notifier) == []
    await deliver(notifier.app, ada.requested(offering, uuid4()))
    assert await send_all(notifier, sink) == 0
