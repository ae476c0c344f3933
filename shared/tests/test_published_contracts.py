"""The published event contracts (docs/events) against the code's contracts."""

import json

import pytest

from credstack.contracts.published import asyncapi, breaking_changes, json_schemas
from credstack.testing import REPO

PUBLISHED = REPO / "docs" / "events"


@pytest.mark.parametrize("type_name", sorted(json_schemas()))
def test_no_published_contract_changes_incompatibly(type_name: str) -> None:
    published_file = PUBLISHED / f"{type_name}.schema.json"
    assert published_file.exists(), f"{type_name} is not published: run ./dev contracts"
    published = json.loads(published_file.read_text())
    breaks = breaking_changes(published, json_schemas()[type_name])
    assert breaks == [], f"{type_name}: {breaks}; publish a new version (v2) instead"


def test_every_published_contract_is_still_produced() -> None:
    published = {p.name.removesuffix(".schema.json") for p in PUBLISHED.glob("*.schema.json")}
    assert published <= set(json_schemas()), "a published event type was removed"


def test_the_published_documents_are_up_to_date() -> None:
    for type_name, schema in json_schemas().items():
        on_disk = json.loads((PUBLISHED / f"{type_name}.schema.json").read_text())
        assert on_disk == schema, f"{type_name} changed compatibly: run ./dev contracts"
    assert json.loads((PUBLISHED / "asyncapi.json").read_text()) == asyncapi()


def test_removing_a_field_or_requiring_a_new_one_is_breaking() -> None:
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, {"properties": {"a": {"type": "string"}}, "required": ["a"]})
    assert breaking_changes(old, {**old, "required": ["a", "b"]})
    assert breaking_changes(
        old, {**old, "properties": {**old["properties"], "a": {"type": "integer"}}}
    )
    added = {"properties": {**old["properties"], "c": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, added) == []
