"""Staff manage LMS integrations: clients and their secrets, roster links, quarantined grades.
And the schema the migrations build is the one tables.py describes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection

from assessment import tables
from credstack.testing import Tokens, owner_connection

from .conftest import Cohort

SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples" / "grades"


def _envelope() -> Any:
    return json.loads((SAMPLES / "caliper" / "valid_01_envelope_gradeevent_v1p2.json").read_text())


async def test_a_generated_secret_is_shown_once_and_only_its_hash_is_kept(cohort: Cohort) -> None:
    created = await cohort.register("sensor", "caliper")
    secret = created["secret"]

    fetched = await cohort.http.get("/lms-clients/sensor", headers=cohort.tokens("staff"))
    async with cohort.service.engine.connect() as conn:
        stored = await conn.scalar(select(tables.lms_client.c.secret_hash))
    envelope_ok = await cohort.http.post(
        "/caliper/events", json=_envelope(), headers={"Authorization": f"Bearer {secret}"}
    )

    assert len(secret) >= 32
    assert fetched.json()["secret"] is None
    assert stored is not None and secret not in stored and len(stored) == 64
    assert envelope_ok.status_code == 202  # accepted; the assignee is not linked yet


async def test_registering_twice_is_one_registration_and_the_kind_cannot_change(
    cohort: Cohort,
) -> None:
    body = {"kind": "native", "name": "Moodle plugin", "offering_ids": [str(cohort.offering_id)]}
    staff = cohort.tokens("staff")

    first = await cohort.http.put("/lms-clients/plugin", json=body, headers=staff)
    again = await cohort.http.put("/lms-clients/plugin", json=body, headers=staff)
    other_kind = await cohort.http.put(
        "/lms-clients/plugin", json={**body, "kind": "caliper"}, headers=staff
    )
    listed = await cohort.http.get("/lms-clients", headers=staff)

    assert (first.status_code, again.status_code, other_kind.status_code) == (201, 200, 409)
    assert [c["id"] for c in listed.json()["items"]] == ["plugin"]


async def test_registrations_that_cannot_work_are_refused(cohort: Cohort, tokens: Tokens) -> None:
    staff = cohort.tokens("staff")
    offerings = [str(cohort.offering_id)]
    await cohort.register("lti-a", "lti", lti_issuer="https://lms.example", lti_deployment_id="d1")

    lti_without_deployment = await cohort.http.put(
        "/lms-clients/lti-b",
        json={"kind": "lti", "name": "b", "offering_ids": offerings},
        headers=staff,
    )
    same_deployment = await cohort.http.put(
        "/lms-clients/lti-c",
        json={
            "kind": "lti",
            "name": "c",
            "offering_ids": offerings,
            "lti_issuer": "https://lms.example",
            "lti_deployment_id": "d1",
        },
        headers=staff,
    )
    short_secret = await cohort.http.put(
        "/lms-clients/x",
        json={"kind": "xapi", "name": "x", "offering_ids": offerings, "secret": "short"},
        headers=staff,
    )
    by_assessor = await cohort.http.put(
        "/lms-clients/y",
        json={"kind": "native", "name": "y", "offering_ids": offerings},
        headers=tokens("lms", "z"),
    )

    assert [
        r.status_code for r in (lti_without_deployment, same_deployment, short_secret, by_assessor)
    ] == [
        422,
        409,
        422,
        403,
    ]


async def test_a_rotated_secret_replaces_the_old_one_at_once(cohort: Cohort) -> None:
    await cohort.register("sensor", "caliper", secret="caliper-old-key-000001")

    rotated = await cohort.http.post(
        "/lms-clients/sensor/secret", json={}, headers=cohort.tokens("staff")
    )
    new = rotated.json()["secret"]
    old_key = await cohort.http.post(
        "/caliper/events",
        json=_envelope(),
        headers={"Authorization": "Bearer caliper-old-key-000001"},
    )
    new_key = await cohort.http.post(
        "/caliper/events", json=_envelope(), headers={"Authorization": f"Bearer {new}"}
    )

    assert (old_key.status_code, new_key.status_code) == (401, 202)


async def test_a_deactivated_client_cannot_post_grades(cohort: Cohort) -> None:
    await cohort.register("plugin", "native")
    enrolment = await cohort.confirm()
    await cohort.register("plugin", "native", active=False)

    response = await cohort.native("plugin", enrolment.enrolment_id, 80)

    assert response.status_code == 403
    assert response.json()["type"].endswith("/unregistered-client")


async def test_roster_links_are_checked_and_an_lms_links_only_for_itself(cohort: Cohort) -> None:
    await cohort.register(
        "canvas", "lti", lti_issuer="https://canvas.example.edu", lti_deployment_id="1"
    )
    await cohort.register("moodle", "native")
    enrolment, other = await cohort.confirm(), await cohort.confirm()

    created = await cohort.link("canvas", "user-1", enrolment.enrolment_id)
    same = await cohort.link("canvas", "user-1", enrolment.enrolment_id)
    clash = await cohort.link("canvas", "user-1", other.enrolment_id)
    for_another = await cohort.http.post(
        "/roster-links",
        json={
            "client_id": "canvas",
            "subject": "u",
            "offering_id": str(cohort.offering_id),
            "enrolment_id": str(other.enrolment_id),
        },
        headers=cohort.lms("moodle"),
    )
    unserved = await cohort.http.post(
        "/roster-links",
        json={
            "client_id": "canvas",
            "subject": "u",
            "offering_id": str(uuid4()),
            "enrolment_id": str(other.enrolment_id),
        },
        headers=cohort.staff(),
    )
    wrong_offering = await cohort.http.post(
        "/roster-links",
        json={"subject": "u", "offering_id": str(uuid4()), "enrolment_id": str(other.enrolment_id)},
        headers=cohort.lms("canvas"),
    )

    assert [
        r.status_code for r in (created, same, clash, for_another, unserved, wrong_offering)
    ] == [
        201,
        200,
        409,
        403,
        422,
        403,
    ]
    listed = await cohort.http.get(
        "/roster-links", params={"client_id": "canvas"}, headers=cohort.staff()
    )
    assert [(link["subject"], link["enrolment_id"]) for link in listed.json()["items"]] == [
        ("user-1", str(enrolment.enrolment_id))
    ]
    removed = await cohort.http.delete(
        f"/roster-links/{created.json()['id']}", headers=cohort.staff()
    )
    assert removed.status_code == 204
    listed = await cohort.http.get("/roster-links", headers=cohort.staff())
    assert listed.json()["items"] == []


async def test_staff_assign_or_dismiss_quarantined_grades(cohort: Cohort) -> None:
    key = "caliper-sensor-key-assign-1"
    await cohort.register("sensor", "caliper", secret=key)
    await cohort.declare(
        "sensor",
        {"activity": "https://canvas.example.edu/courses/1742/assignments/5521", "summative": True},
    )
    enrolment = await cohort.confirm()
    for _ in range(2):
        envelope = _envelope()
        envelope["data"][0]["id"] = f"urn:uuid:{uuid4()}"
        response = await cohort.http.post(
            "/caliper/events", json=envelope, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 202
    first, second = (await cohort.http.get("/quarantined-grades", headers=cohort.staff())).json()[
        "items"
    ]
    assert first["note"].startswith("no roster link for https://canvas.example.edu/users/20417")

    assigned = await cohort.http.post(
        f"/quarantined-grades/{first['id']}/assign",
        json={"enrolment_id": str(enrolment.enrolment_id), "note": "Canvas user 20417 is Priya"},
        headers=cohort.staff(),
    )
    dismissed = await cohort.http.post(
        f"/quarantined-grades/{second['id']}/dismiss",
        json={"note": "test submission"},
        headers=cohort.staff(),
    )
    twice = await cohort.http.post(
        f"/quarantined-grades/{second['id']}/dismiss",
        json={"note": "again"},
        headers=cohort.staff(),
    )

    assert (assigned.json()["status"], dismissed.json()["status"], twice.status_code) == (
        "kept",
        "dismissed",
        409,
    )
    assert await cohort.outcome_events() == ["AssessmentPassed"]
    assert (await cohort.http.get("/quarantined-grades", headers=cohort.staff())).json()[
        "items"
    ] == []


async def test_the_migrations_build_exactly_the_tables_the_code_describes(cohort: Cohort) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_object": lambda obj, name, type_, *_: (
                    type_ != "table" or getattr(obj, "schema", None) == "assessment"
                ),
            },
        )
        return list(compare_metadata(context, tables.metadata))

    settings = cohort.service.app.state.settings
    async with owner_connection(settings.database_url, "assessment") as conn:
        assert await conn.run_sync(differences) == []
