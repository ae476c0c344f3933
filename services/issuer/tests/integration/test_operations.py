"""Whether the catalogue's announcements arrived here (for the reconciler), and that a
re-announcement (a new event id, the same content) issues nothing again."""

from uuid import uuid4

from credstack.testing import ServiceUnderTest, Tokens, deliver, staged_events
from issuer import tables

from ..events import Learner, micro_credential, passed, stack_of
from .conftest import deliver_all, issued


async def test_the_reconciler_asks_whether_a_version_and_a_stack_arrived(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    first, second = micro_credential(), micro_credential(code="MC-2")
    series = stack_of(first, second)
    await deliver_all(issuer, first, second, series)
    staff = tokens("staff")

    version = await issuer.http.get(
        f"/admin/micro-credentials/{first.micro_credential_id}/versions/2", headers=staff
    )
    newer = await issuer.http.get(
        f"/admin/micro-credentials/{first.micro_credential_id}/versions/3", headers=staff
    )
    stack = await issuer.http.get(f"/admin/stacks/{series.stack_id}/versions/1", headers=staff)
    unknown = await issuer.http.get(f"/admin/stacks/{uuid4()}/versions/1", headers=staff)
    learner = await issuer.http.get(
        f"/admin/stacks/{series.stack_id}/versions/1", headers=tokens("learner")
    )

    assert version.json() == {
        "micro_credential_id": str(first.micro_credential_id),
        "version": 2,
        "known": True,
    }
    assert newer.json()["known"] is False
    assert stack.json() == {"stack_id": str(series.stack_id), "version": 1, "known": True}
    assert unknown.json()["known"] is False
    assert learner.status_code == 403


async def test_re_announced_versions_and_stacks_issue_nothing_again(
    issuer: ServiceUnderTest,
) -> None:
    first, second = micro_credential(), micro_credential(code="MC-2")
    series = stack_of(first, second)
    ada = Learner()
    await deliver_all(issuer, first, second, series)
    for item in (first, second):
        enrolment = ada.confirmed(item)
        await deliver_all(issuer, enrolment, passed(enrolment))
    before = await staged_events(issuer.engine, tables.outbox)

    for event in (first, second, series, first, series):
        await deliver(issuer.app, event, event_id=uuid4())

    assert len(await issued(issuer, "micro-credential")) == 2
    assert len(await issued(issuer, "stack")) == 1
    assert await staged_events(issuer.engine, tables.outbox) == before
