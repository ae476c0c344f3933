"""Every service's OpenAPI describes every success answer with a schema."""

import importlib
from pathlib import Path
from typing import Any

import pytest

from credstack import devstack

#: Success answers that carry no body by design.
BODILESS = {("put", "/xapi/statements", "202")}


def openapi_of(service: str, data_dir: Path) -> dict[str, Any]:
    settings = importlib.import_module(f"{service}.settings").Settings(
        dev_stack=True, data_dir=data_dir
    )
    spec: dict[str, Any] = importlib.import_module(f"{service}.main").create_app(settings).openapi()
    return spec


@pytest.mark.parametrize("service", devstack.SERVICES)
def test_every_success_response_has_a_schema(service: str, tmp_path: Path) -> None:
    spec = openapi_of(service, tmp_path)
    undescribed = [
        (method, path, status, media_type)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and status != "204" and (method, path, status) not in BODILESS
        for media_type, content in response.get("content", {"(none)": {}}).items()
        if not content.get("schema")
    ]
    assert undescribed == []
