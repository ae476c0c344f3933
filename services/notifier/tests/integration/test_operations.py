"""Whether the catalogue's announcements arrived here (for the reconciler), and that a
re-announcement (a new event id, the same content) stages no message again."""

from decimal import Decimal
from uuid import uuid4

from credstack.contracts.catalogue import StackPublished
from credstack.testing import ServiceUnderTest, Tokens, deliver

from ..events import NOW, Learner, micro_credential, offering_of
from .conftest import deliver_all, messages


def stack(*members: object) -> StackPublished:
    return StackPublished(
        stack_id=uuid4(),
        version=1,
        code="MC-SERIES",
        title="Data for Decisions",
        description="A series",
        kind="series",
        members=list(members),  # type: ignore[arg-type]
        credit_points=Decimal(5),
        published_at=NOW,
    )


async def test_the_reconciler_asks_whether_versions_stacks_and_offerings_arrived(
    notifier: ServiceUnderTest, tokens: Tokens
) -> None:
    course = micro_credential(version=2)
    offering = offering_of(course)
    series = stack(course.micro_credential_id, uuid4())
    await deliver_all(notifier, course, offering, series)
    staff = tokens("staff")

    async def known(path: str) -> bool:
        response = await notifier.http.get(path, headers=staff)
        assert response.status_code == 200, response.text
        return bool(response.json()["known"])

    item = course.micro_credential_id
    assert await known(f"/admin/micro-credentials/{item}/versions/1")  # a newer one is here
    assert await known(f"/admin/micro-credentials/{item}/versions/2")
    assert not await known(f"/admin/micro-credentials/{item}/versions/3")
    assert await known(f"/admin/stacks/{series.stack_id}/versions/1")
    assert not await known(f"/admin/stacks/{uuid4()}/versions/1")
    assert await known(f"/admin/offerings/{offering.offering_id}")
    assert not await known(f"/admin/offerings/{uuid4()}")
    learner = await notifier.http.get(
        f"/admin/offerings/{offering.offering_id}", headers=tokens("learner")
    )
    assert learner.status_code == 403


async def test_re_announced_catalogue_items_stage_no_message_again(
    notifier: ServiceUnderTest,
) -> None:
    ada = Learner()
    course = micro_credential()
    offering = offering_of(course)
    series = stack(course.micro_credential_id, uuid4())
    await deliver_all(
        notifier, ada.contact(), course, offering, series, ada.requested(offering, uuid4())
    )
    before = [(m.kind, m.dedup_key) for m in await messages(notifier)]

    for event in (course, offering, series, course, offering, series):
        await deliver(notifier.app, event, event_id=uuid4())

    assert [(m.kind, m.dedup_key) for m in await messages(notifier)] == before
