"""The issuer's OpenAPI describes every success answer with a schema."""

from pathlib import Path

from issuer.main import create_app
from issuer.settings import Settings

#: Routes of the shared service factory, not the issuer's.
SHARED = {"/readyz", "/metrics", "/healthz", "/livez"}


def test_every_success_response_of_the_issuer_has_a_schema(tmp_path: Path) -> None:
    spec = create_app(Settings(dev_stack=True, data_dir=tmp_path)).openapi()
    undescribed = [
        (method, path, media_type)
        for path, operations in spec["paths"].items()
        if path not in SHARED
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for media_type, content in response.get("content", {"?": {}}).items()
        if not content.get("schema")
    ]
    assert undescribed == []
