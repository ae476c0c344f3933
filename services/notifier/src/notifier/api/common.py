"""What the notifier's routers share: the HTML page environment and OpenAPI helpers."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

HTML_PAGE: dict[int | str, Any] = {
    200: {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}
}


@cache
def pages() -> Environment:
    return Environment(
        loader=PackageLoader("notifier", "templates"), autoescape=select_autoescape(["html"])
    )
