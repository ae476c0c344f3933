"""The staff side: lifecycle, versions, policy rules, offerings, reviews, over HTTP."""

from datetime import UTC, date, datetime, timedelta

from catalogue import tables
from credstack.testing import ServiceUnderTest, Tokens, staged_events

from .steps import APPROVER, PROPOSER, act, draft, offering, propose, publish, schedule


def types(events: list[dict]) -> list[str]:
    return [e["type"].split(".")[2] for e in events]


async def test_a_published_micro_credential_is_announced_with_its_full_snapshot(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    item = await publish(catalogue, tokens)

    assert (item["status"], item["version"], item["approved_by"]) == ("published", 1, APPROVER)
    assert item["pass_mark"] == 70 and item["cpd_hours"] == 65
    assert item["review_due_on"] == (date.today() + timedelta(days=365)).isoformat()
    [published] = await staged_events(catalogue.engine, tables.outbox)
    assert published["type"] == "credstack.catalogue.MicroCredentialPublished.v1"
    assert published["subject"] == item["id"]
    data = published["data"]
    assert data["learning_outcomes"][1] == {
        "id": "LO2",
        "description": "Document cleaning decisions",
    }
    assert (data["credit_points"], data["notional_hours"], data["language"]) == (
        "3.125",
        "65",
        "en",
    )
    assert data["alignments"][0]["framework"] == "ESCO"


async def test_the_proposer_cannot_approve_their_own_micro_credential(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await catalogue.http.post(
        "/micro-credentials", json=draft(), headers=tokens("approver", "same")
    )
    await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/submit", headers=tokens("approver", "same")
    )

    response = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/approve", headers=tokens("approver", "same")
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/self-approval")


async def test_submission_names_every_policy_rule_the_item_breaks(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await propose(
        catalogue,
        tokens,
        learning_outcomes=[],
        assessment_description="",
        strategic_plan_alignment="",
        convenor="",
        delivery_modes=["synchronous-online"],
        co_taught_courses=["COMP2100", "COMP8410"],
        is_language_micro_credential=True,
    )

    response = await act(catalogue, tokens, "MC-DATA-101", "submit")

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/policy-breach")
    rules = {b.split(":")[0] for b in problem["breaches"]}
    assert rules == {
        "learning-outcomes",
        "assessment",
        "strategic-plan",
        "convenor",
        "online-delivery",
        "co-teaching",
        "language-level",
    }
    assert "COMP2100" in str(problem["breaches"]) and "COMP8410" not in str(problem["breaches"])
    versions = await catalogue.http.get(
        "/micro-credentials/MC-DATA-101/versions", headers=tokens("staff")
    )
    assert versions.json()["items"][0]["status"] == "draft"


async def test_a_published_version_never_changes_a_revision_is_a_new_version(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    edit_published = await catalogue.http.patch(
        "/micro-credentials/MC-DATA-101/draft", json={"title": "Changed"}, headers=tokens("staff")
    )
    assert edit_published.status_code == 409

    revision = await act(catalogue, tokens, "MC-DATA-101", "revisions")
    assert (revision.status_code, revision.json()["version"], revision.json()["status"]) == (
        200,
        2,
        "draft",
    )
    edited = await catalogue.http.patch(
        "/micro-credentials/MC-DATA-101/draft",
        json={"title": "Data Cleaning, revised", "pass_mark": 75},
        headers=tokens("staff", PROPOSER),
    )
    assert edited.status_code == 200, edited.text
    public_before = await catalogue.http.get("/micro-credentials/MC-DATA-101")
    assert public_before.json()["title"] == "Data Cleaning for Analysts"

    for action in ("submit", "approve", "publish"):
        assert (await act(catalogue, tokens, "MC-DATA-101", action)).status_code == 200

    public = (await catalogue.http.get("/micro-credentials/MC-DATA-101")).json()
    assert (public["version"], public["title"], public["pass_mark"]) == (
        2,
        "Data Cleaning, revised",
        75,
    )
    statuses = [
        (v["version"], v["status"])
        for v in (
            await catalogue.http.get(
                "/micro-credentials/MC-DATA-101/versions", headers=tokens("staff")
            )
        ).json()["items"]
    ]
    assert statuses == [(1, "superseded"), (2, "published")]
    assert types(await staged_events(catalogue.engine, tables.outbox)) == [
        "MicroCredentialPublished",
        "MicroCredentialPublished",
        "MicroCredentialRevised",
    ]


async def test_a_draft_field_that_is_required_cannot_be_cleared(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await propose(catalogue, tokens)
    response = await catalogue.http.patch(
        "/micro-credentials/MC-DATA-101/draft", json={"title": None}, headers=tokens("staff")
    )
    assert response.status_code == 422


async def test_a_disestablished_item_takes_no_new_offerings_but_stays_described(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    assert (await act(catalogue, tokens, "MC-DATA-101", "disestablish")).status_code == 200

    refused = await schedule(catalogue, tokens, "MC-DATA-101")
    public = await catalogue.http.get("/micro-credentials/MC-DATA-101")

    assert refused.status_code == 409
    assert public.json()["status"] == "disestablished"
    assert (
        types(await staged_events(catalogue.engine, tables.outbox))[-1]
        == "MicroCredentialDisestablished"
    )


async def test_an_offering_is_a_cohort_of_the_exact_published_version(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    response = await schedule(
        catalogue, tokens, "MC-DATA-101", contact_sessions=6, lms_course_ref="MOODLE-991"
    )
    assert response.status_code == 201, response.text

    events = await staged_events(catalogue.engine, tables.outbox)
    scheduled = next(e for e in events if e["type"].endswith("OfferingScheduled.v1"))
    assert scheduled["data"]["micro_credential_version"] == 1
    assert scheduled["data"]["fee_cents"] == 99000
    assert scheduled["data"]["contact_sessions"] == 6
    assert scheduled["data"]["convenor"] == "Dr Ada Byron"
    assert types(events)[-1] == "EnrolmentOpened"


async def test_an_offering_must_use_an_approved_delivery_mode_and_a_sane_schedule(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    online = await schedule(catalogue, tokens, "MC-DATA-101", delivery_mode="synchronous-online")
    backwards = await schedule(catalogue, tokens, "MC-DATA-101", ends_on="2020-01-01")
    draft_only = await propose(catalogue, tokens, "MC-OTHER-1")
    not_published = await schedule(catalogue, tokens, "MC-OTHER-1")

    assert draft_only.status_code == 201
    assert (online.status_code, backwards.status_code, not_published.status_code) == (422, 422, 409)
    assert "synchronous-online is not approved" in online.json()["detail"]


async def test_rescheduling_and_cancelling_an_offering_are_events(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    offering_id = (await schedule(catalogue, tokens, "MC-DATA-101")).json()["id"]
    later = offering(
        starts_on=(date.today() + timedelta(days=90)).isoformat(),
        ends_on=(date.today() + timedelta(days=120)).isoformat(),
    )
    moved = await catalogue.http.patch(
        f"/offerings/{offering_id}",
        json={
            k: later[k]
            for k in ("starts_on", "ends_on", "enrolment_opens_at", "enrolment_closes_at")
        }
        | {"capacity": 40},
        headers=tokens("staff"),
    )
    cancelled = await catalogue.http.post(
        f"/offerings/{offering_id}/cancel",
        json={"reason": "Convenor unavailable"},
        headers=tokens("staff"),
    )
    again = await catalogue.http.post(
        f"/offerings/{offering_id}/cancel", json={"reason": "twice"}, headers=tokens("staff")
    )

    assert (moved.status_code, cancelled.status_code, again.status_code) == (200, 200, 422)
    assert types(await staged_events(catalogue.engine, tables.outbox))[-2:] == [
        "OfferingRescheduled",
        "OfferingCancelled",
    ]


async def test_staff_list_what_is_due_for_annual_review_and_record_reviews(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens)
    next_year = (date.today() + timedelta(days=366)).isoformat()
    due = await catalogue.http.get(
        "/reviews-due", params={"on_or_before": next_year}, headers=tokens("staff")
    )
    assert [i["code"] for i in due.json()["items"]] == ["MC-DATA-101"]

    reviewed = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/reviews",
        json={"reviewed_on": date.today().isoformat()},
        headers=tokens("staff"),
    )
    assert reviewed.status_code == 200
    due = await catalogue.http.get(
        "/reviews-due", params={"on_or_before": next_year}, headers=tokens("staff")
    )
    assert due.json()["items"] == [] or due.json()["items"][0]["review_due_on"] <= next_year


async def test_prerequisites_are_micro_credentials_of_the_catalogue(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    first = await publish(catalogue, tokens, "MC-INTRO-1")
    unknown = await propose(catalogue, tokens, "MC-ADV-1", prerequisite_codes=["MC-NOPE"])
    known = await propose(catalogue, tokens, "MC-ADV-2", prerequisite_codes=["MC-INTRO-1"])

    assert unknown.status_code == 422
    assert known.status_code == 201
    assert known.json()["prerequisites"] == [first["id"]]
    assert known.json()["prerequisite_codes"] == ["MC-INTRO-1"]


async def test_notional_hours_outside_the_guideline_warn_but_do_not_refuse(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    created = await propose(catalogue, tokens, notional_hours="30")
    assert created.json()["warnings"] == [
        "notional-hours: 9.6 hours per credit point is outside the 20-23 hour guideline"
    ]
    assert (await act(catalogue, tokens, "MC-DATA-101", "submit")).status_code == 200


async def test_staff_actions_need_a_token_with_the_right_scope(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    anonymous = await catalogue.http.post("/micro-credentials", json=draft())
    learner = await catalogue.http.post(
        "/micro-credentials", json=draft(), headers=tokens("learner")
    )
    forged = await catalogue.http.post(
        "/micro-credentials", json=draft(), headers={"Authorization": "Bearer not.a.token"}
    )
    await propose(catalogue, tokens)
    await act(catalogue, tokens, "MC-DATA-101", "submit")
    staff_approves = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/approve", headers=tokens("staff", "someone-else")
    )

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert (learner.status_code, forged.status_code, staff_approves.status_code) == (403, 401, 403)
    assert await staged_events(catalogue.engine, tables.outbox) == []


async def test_a_bad_draft_gets_a_problem_detail_and_changes_nothing(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    response = await catalogue.http.post(
        "/micro-credentials",
        json=draft(pass_mark=120, credit_points="-1", category="hobby"),
        headers=tokens("staff"),
    )
    malformed = await catalogue.http.post(
        "/micro-credentials",
        content=b"{not json",
        headers={**tokens("staff"), "Content-Type": "application/json"},
    )
    duplicate_first = await propose(catalogue, tokens)
    duplicate = await propose(catalogue, tokens)

    assert response.status_code == 422
    locations = {tuple(e["location"]) for e in response.json()["errors"]}
    assert locations >= {("body", "pass_mark"), ("body", "credit_points"), ("body", "category")}
    assert malformed.status_code == 400
    assert (duplicate_first.status_code, duplicate.status_code) == (201, 409)


async def test_the_same_idempotency_key_returns_the_first_response(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    headers = {**tokens("staff", PROPOSER), "Idempotency-Key": "propose-1"}
    first = await catalogue.http.post("/micro-credentials", json=draft(), headers=headers)
    again = await catalogue.http.post("/micro-credentials", json=draft(), headers=headers)
    other = await catalogue.http.post(
        "/micro-credentials", json=draft(title="Other"), headers=headers
    )

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json() == first.json()


async def test_enrolment_opening_later_is_announced_by_the_worker_with_no_address(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    from catalogue.main import announce_open_enrolments

    await publish(catalogue, tokens)
    opens = datetime.now(UTC) + timedelta(seconds=1)
    await schedule(catalogue, tokens, "MC-DATA-101", enrolment_opens_at=opens.isoformat())
    assert "EnrolmentOpened" not in types(await staged_events(catalogue.engine, tables.outbox))

    import asyncio

    await asyncio.sleep(1.1)
    assert await announce_open_enrolments(catalogue.app) == 1
    assert await announce_open_enrolments(catalogue.app) == 0
    opened = (await staged_events(catalogue.engine, tables.outbox))[-1]
    assert opened["type"].endswith("EnrolmentOpened.v1")
    # interest is the notifier's: no address goes on catalogue.events
    assert opened["data"]["interested_emails"] == []


async def test_operations_endpoints_report_health_readiness_and_metrics(
    catalogue: ServiceUnderTest,
) -> None:
    assert (await catalogue.http.get("/healthz")).json() == {"status": "ok"}
    ready = await catalogue.http.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
    metrics = await catalogue.http.get("/metrics")
    assert "credstack_http_requests_total" in metrics.text
    through_the_ingress = await catalogue.http.get(
        "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert through_the_ingress.status_code == 403


async def test_lifecycle_transitions_may_be_retried_safely(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await propose(catalogue, tokens)
    for action in ("submit", "submit", "approve", "approve", "publish", "publish"):
        response = await act(catalogue, tokens, "MC-DATA-101", action)
        assert response.status_code == 200, (action, response.text)

    assert types(await staged_events(catalogue.engine, tables.outbox)) == [
        "MicroCredentialPublished"
    ]
    other_approver = await catalogue.http.post(
        "/micro-credentials/MC-DATA-101/approve", headers=tokens("approver", "someone-else")
    )
    assert other_approver.status_code == 409
