"""Stacks: the stack's credential when its members are held, progress, revocation."""

from uuid import UUID

from sqlalchemy import func, select

from credstack.testing import ServiceUnderTest, Tokens, deliver, staged_events
from issuer import tables

from ..conformance import ob3_schema_errors
from ..events import Learner, micro_credential, passed, stack_of, withdrawn
from .conftest import deliver_all, issued


async def test_the_last_member_completes_the_stack_with_members_referenced_and_credit_summed(
    issuer: ServiceUnderTest,
) -> None:
    first, second = micro_credential(), micro_credential(code="MC-DATA-102", title="Data Viz")
    series = stack_of(first, second)
    ada = Learner()
    await deliver_all(issuer, first, second, series)
    one, two = ada.confirmed(first), ada.confirmed(second)
    await deliver_all(issuer, one, passed(one))
    assert await issued(issuer, "stack") == []
    await deliver_all(issuer, two, passed(two))

    [row] = await issued(issuer, "stack")
    members = await issued(issuer, "micro-credential")
    credential = row.document
    assert row.stack_id == series.stack_id
    assert credential["credentialSubject"]["creditsEarned"] == 6.25
    assert [e["id"] for e in credential["evidence"]] == [m.document["id"] for m in members]
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["id"].endswith(f"/stacks/{series.stack_id}/versions/1")
    assert "Data Cleaning" in achievement["criteria"]["narrative"]
    assert "Data Viz" in achievement["criteria"]["narrative"]
    assert ob3_schema_errors(credential) == []
    [event] = [
        e
        for e in await staged_events(issuer.engine, tables.outbox)
        if e["type"] == "credstack.issuer.StackCredentialIssued.v1"
    ]
    assert event["data"]["stack_id"] == str(series.stack_id)
    assert sorted(event["data"]["member_credential_ids"]) == sorted(str(m.id) for m in members)


async def test_a_stack_published_after_its_members_were_earned_is_issued_then(
    issuer: ServiceUnderTest,
) -> None:
    first, second = micro_credential(), micro_credential(code="MC-2")
    ada = Learner()
    await deliver_all(issuer, first, second)
    for item in (first, second):
        enrolment = ada.confirmed(item)
        await deliver_all(issuer, enrolment, passed(enrolment))
    series = stack_of(first, second)

    await deliver(issuer.app, series)
    await deliver(issuer.app, series)  # redelivered

    assert len(await issued(issuer, "stack")) == 1


async def test_a_suite_needs_only_its_required_count_and_another_learner_counts_for_nothing(
    issuer: ServiceUnderTest,
) -> None:
    members = [micro_credential(code=f"MC-{n}") for n in range(3)]
    suite = stack_of(*members, kind="suite", required_count=2)
    ada, grace = Learner(), Learner(name="Grace", email="grace@example.org")
    await deliver_all(issuer, *members, suite)
    for who, item in ((ada, members[0]), (grace, members[1])):
        enrolment = who.confirmed(item)
        await deliver_all(issuer, enrolment, passed(enrolment))
    assert await issued(issuer, "stack") == []

    enrolment = ada.confirmed(members[2])
    await deliver_all(issuer, enrolment, passed(enrolment))

    [row] = await issued(issuer, "stack")
    assert row.learner_id == ada.id and len(row.document["evidence"]) == 2


async def test_learners_see_their_progress_towards_each_stack(
    issuer: ServiceUnderTest, tokens: Tokens
) -> None:
    first, second = micro_credential(), micro_credential(code="MC-2", title="Data Viz")
    series = stack_of(first, second)
    ada = Learner()
    enrolment = ada.confirmed(first)
    await deliver_all(issuer, first, second, series, enrolment, passed(enrolment))

    record = (
        await issuer.http.get("/learners/me/credentials", headers=tokens("learner", ada.subject))
    ).json()

    [progress] = record["stacks"]
    assert progress["stack_id"] == str(series.stack_id) and progress["title"] == series.title
    assert (progress["held"], progress["required"], progress["complete"]) == (1, 2, False)
    assert [(m["title"], m["held"]) for m in progress["members"]] == [
        ("Data Cleaning", True),
        ("Data Viz", False),
    ]
    assert progress["credential_id"] is None


async def test_withdrawing_a_member_s_result_revokes_the_stack_credential_too(
    issuer: ServiceUnderTest,
) -> None:
    first, second = micro_credential(), micro_credential(code="MC-2")
    ada = Learner()
    one, two = ada.confirmed(first), ada.confirmed(second)
    await deliver_all(issuer, first, second, stack_of(first, second))
    await deliver_all(issuer, one, passed(one), two, passed(two))

    await deliver(issuer.app, withdrawn(one, "academic misconduct"))

    statuses = {row.kind + ":" + str(row.enrolment_id): row.status for row in await issued(issuer)}
    assert statuses[f"micro-credential:{one.enrolment_id}"] == "revoked"
    assert statuses[f"micro-credential:{two.enrolment_id}"] == "active"
    [stack_row] = await issued(issuer, "stack")
    assert stack_row.status == "revoked" and "academic misconduct" in stack_row.status_reason
    revoked = [
        e["data"]["credential_id"]
        for e in await staged_events(issuer.engine, tables.outbox)
        if e["type"] == "credstack.issuer.CredentialRevoked.v1"
    ]
    assert len(revoked) == 2 and str(stack_row.id) in revoked

    # the member earned again completes the stack again
    await deliver(issuer.app, passed(one, score="71"))
    live = [row for row in await issued(issuer, "stack") if row.status == "active"]
    assert len(live) == 1 and UUID(str(live[0].learner_id)) == ada.id
    async with issuer.engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(tables.credential))
    assert total == 5  # two revoked, three active


async def test_an_older_stack_version_arriving_late_does_not_replace_the_newer_rule(
    issuer: ServiceUnderTest,
) -> None:
    first, second, third = (micro_credential(code=f"MC-{n}") for n in range(3))
    v1 = stack_of(first, second)
    v2 = stack_of(first, second, third, stack_id=v1.stack_id, version=2)
    ada = Learner()
    await deliver_all(issuer, first, second, third)
    for item in (first, second):
        enrolment = ada.confirmed(item)
        await deliver_all(issuer, enrolment, passed(enrolment))

    await deliver_all(issuer, v2, v1)  # v2 needs all three: not complete yet

    assert await issued(issuer, "stack") == []
    enrolment = ada.confirmed(third)
    await deliver_all(issuer, enrolment, passed(enrolment))
    [row] = await issued(issuer, "stack")
    assert row.stack_version == 2 and len(row.document["evidence"]) == 3
