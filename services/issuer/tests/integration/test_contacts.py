"""The name and email on a credential come from the contact topic (enrolment.contacts);
EnrolmentConfirmed carries only the learner's id."""

from datetime import timedelta

from credstack.testing import ServiceUnderTest, deliver

from ..events import NOW, Learner, contact, micro_credential, passed
from .conftest import deliver_all, issued


async def test_a_pass_waits_for_the_learners_contact_details_then_names_them(
    issuer: ServiceUnderTest,
) -> None:
    item, ada = micro_credential(), Learner(name="Zoë Łukasiewicz 李雷")
    enrolment = ada.confirmed(item).model_copy(update={"learner_name": None, "email": None})
    await deliver_all(issuer, item, enrolment, passed(enrolment))
    assert await issued(issuer) == []

    await deliver(issuer.app, contact(ada))
    [row] = await issued(issuer)
    assert row.recipient_name == "Zoë Łukasiewicz 李雷"
    assert row.recipient_email == ada.email


async def test_the_newest_contact_details_name_the_next_credential_and_an_older_one_is_ignored(
    issuer: ServiceUnderTest,
) -> None:
    item, second_item, ada = micro_credential(), micro_credential(), Learner()
    await deliver(issuer.app, contact(ada, name="Ada King", at=NOW))
    await deliver(issuer.app, contact(ada, name="Ada Byron", at=NOW - timedelta(days=1)))
    first = ada.confirmed(item).model_copy(update={"learner_name": None, "email": None})
    await deliver_all(issuer, item, first, passed(first))
    await deliver(issuer.app, contact(ada, name="Ada Lovelace", at=NOW + timedelta(days=1)))
    second = ada.confirmed(second_item).model_copy(update={"learner_name": None, "email": None})
    await deliver_all(issuer, second_item, second, passed(second))
    names = [row.recipient_name for row in await issued(issuer)]
    assert names == ["Ada King", "Ada Lovelace"]
