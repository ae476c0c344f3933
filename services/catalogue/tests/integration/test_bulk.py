"""Staff bulk import and export: every row validated, all or nothing, round trip."""

import json

from sqlalchemy import func, select

from catalogue import tables
from credstack.testing import ServiceUnderTest, Tokens, audit_entries, staged_events

from .steps import draft, publish

CSV_HEADER = (
    "code,title,description,learning_outcomes,credit_points,notional_hours,delivery_modes,"
    "assessment_description,strategic_plan_alignment,convenor,prerequisite_codes,language,"
    "fee_cents,alignments\n"
)


def csv_row(code: str, **cells: str) -> str:
    values = {
        "code": code,
        "title": f"Title {code}",
        "description": "A description",
        "learning_outcomes": "LO1: Explain the thing | LO2: Apply the thing",
        "credit_points": "3.125",
        "notional_hours": "65",
        "delivery_modes": "on-campus | external-on-site",
        "assessment_description": "An essay",
        "strategic_plan_alignment": "Lifelong learning",
        "convenor": "Dr Y",
        "prerequisite_codes": "",
        "language": "en",
        "fee_cents": "80000",
        "alignments": '"[{""name"": ""Ethics"", ""url"": ""https://example.org/ethics""}]"',
    } | cells
    return ",".join(values[c] for c in CSV_HEADER.strip().split(",")) + "\n"


async def count(catalogue: ServiceUnderTest) -> int:
    async with catalogue.engine.connect() as conn:
        return int(
            await conn.scalar(select(func.count()).select_from(tables.micro_credential)) or 0
        )


async def post_csv(
    catalogue: ServiceUnderTest, tokens: Tokens, body: str, role: str = "staff", **params: str
):  # type: ignore[no-untyped-def]
    return await catalogue.http.post(
        "/imports",
        content=body.encode(),
        params=params,
        headers={**tokens(role), "Content-Type": "text/csv"},
    )


async def test_a_valid_csv_is_imported_as_drafts_with_prerequisites_resolved_in_file_order(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    body = CSV_HEADER + csv_row("IMP-1") + csv_row("IMP-2", prerequisite_codes="IMP-1")

    response = await post_csv(catalogue, tokens, body)

    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2
    versions = await catalogue.http.get(
        "/micro-credentials/IMP-2/versions", headers=tokens("staff")
    )
    [second] = versions.json()["items"]
    assert second["status"] == "draft"
    assert second["prerequisite_codes"] == ["IMP-1"]
    assert second["learning_outcomes"][1] == {"id": "LO2", "description": "Apply the thing"}
    assert second["delivery_modes"] == ["on-campus", "external-on-site"]


async def test_one_bad_row_refuses_the_whole_file_with_a_report_of_every_row(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(catalogue, tokens, "TAKEN-1")
    before = await count(catalogue)
    body = (
        CSV_HEADER
        + csv_row("IMP-1")
        + csv_row("IMP-2", credit_points="lots")
        + csv_row("IMP-1")
        + csv_row("TAKEN-1")
        + csv_row("IMP-5", prerequisite_codes="NOWHERE")
        + csv_row("IMP-6", learning_outcomes="no id here")
    )

    response = await post_csv(catalogue, tokens, body)

    assert response.status_code == 422
    report = response.json()
    assert report["type"].endswith("/import-refused")
    assert report["imported"] == 0 and report["failed"] == 5
    by_row = {r["row"]: r for r in report["rows"]}
    assert by_row[2]["status"] == "ok"
    assert "credit_points" in by_row[3]["errors"][0]
    assert "appears twice" in by_row[4]["errors"][0]
    assert "already in the catalogue" in by_row[5]["errors"][0]
    assert "NOWHERE" in by_row[6]["errors"][0]
    assert "ID: description" in by_row[7]["errors"][0]
    assert await count(catalogue) == before


async def test_publishing_an_import_checks_every_policy_rule_and_needs_an_approver(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    good = CSV_HEADER + csv_row("IMP-1")
    breaking = CSV_HEADER + csv_row("IMP-1", convenor="", delivery_modes="synchronous-online")

    as_staff = await post_csv(catalogue, tokens, good, publish="true")
    refused = await post_csv(catalogue, tokens, breaking, role="approver", publish="true")
    published = await post_csv(catalogue, tokens, good, role="approver", publish="true")

    assert as_staff.status_code == 403
    assert refused.status_code == 422
    assert {e.split(":")[0] for e in refused.json()["rows"][0]["errors"]} == {
        "convenor",
        "online-delivery",
    }
    assert published.status_code == 201
    assert (await catalogue.http.get("/micro-credentials/IMP-1")).json()["status"] == "published"
    assert [
        e["type"].split(".")[2] for e in await staged_events(catalogue.engine, tables.outbox)
    ] == ["MicroCredentialPublished"]


async def test_unreadable_files_and_wrong_media_types_are_refused(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    xml = await catalogue.http.post(
        "/imports", content=b"<x/>", headers={**tokens("staff"), "Content-Type": "application/xml"}
    )
    no_header = await post_csv(catalogue, tokens, "just,some,words\n")
    bad_json = await catalogue.http.post(
        "/imports", content=b"{", headers={**tokens("staff"), "Content-Type": "application/json"}
    )
    assert (xml.status_code, no_header.status_code, bad_json.status_code) == (415, 400, 400)


async def test_an_export_imports_again_unchanged_in_csv_and_json(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    await publish(
        catalogue, tokens, "EXP-1", language="fr", endorsements=[{"name": "Institute of Data"}]
    )
    await publish(catalogue, tokens, "EXP-2", prerequisite_codes=["EXP-1"], expiry_months=24)
    exported_json = (await catalogue.http.get("/exports", headers=tokens("staff"))).json()
    exported_csv = (
        await catalogue.http.get("/exports", params={"format": "csv"}, headers=tokens("staff"))
    ).text

    async with catalogue.engine.begin() as conn:
        await conn.execute(tables.micro_credential.delete())
    again = await post_csv(catalogue, tokens, exported_csv)
    assert again.status_code == 201, again.text
    assert (await catalogue.http.get("/exports", headers=tokens("staff"))).json() == exported_json

    async with catalogue.engine.begin() as conn:
        await conn.execute(tables.micro_credential.delete())
    from_json = await catalogue.http.post(
        "/imports",
        content=json.dumps(exported_json).encode(),
        headers={**tokens("staff"), "Content-Type": "application/json"},
    )
    assert from_json.status_code == 201
    assert (await catalogue.http.get("/exports", headers=tokens("staff"))).json() == exported_json
    assert exported_json[1]["prerequisite_codes"] == ["EXP-1"]
    assert exported_json[0]["endorsements"] == [{"name": "Institute of Data"}]
    assert exported_json[0] | {"code": "MC-DATA-101"} != draft()


async def test_an_import_is_audited_and_a_refused_one_is_not(
    catalogue: ServiceUnderTest, tokens: Tokens
) -> None:
    refused = await post_csv(catalogue, tokens, CSV_HEADER + csv_row("IMP-1", title=""))
    imported = await post_csv(catalogue, tokens, CSV_HEADER + csv_row("IMP-1") + csv_row("IMP-2"))

    assert (refused.status_code, imported.status_code) == (422, 201)
    [entry] = await audit_entries(catalogue.engine, tables.audit)
    assert (entry["action"], entry["target_type"]) == ("catalogue.import", "catalogue")
    assert entry["details"] == {"publish": False, "rows": 2, "codes": ["IMP-1", "IMP-2"]}
