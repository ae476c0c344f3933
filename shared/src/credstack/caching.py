"""HTTP caching for public reads: a strong ETag over the body, Cache-Control, and 304."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.requests import Request
from starlette.responses import Response


def cached_json(request: Request, body: Any, *, max_age: int = 60) -> Response:
    """The JSON response, or 304 Not Modified when the client's If-None-Match matches."""
    try:  # a body already made of JSON types (`model_dump(mode="json")`) needs no encoder
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    except TypeError:
        text = json.dumps(jsonable_encoder(body), separators=(",", ":"), ensure_ascii=False)
    payload = text.encode()
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
    }
    if_none_match = request.headers.get("if-none-match", "")
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    if etag in candidates or "*" in candidates:
        return Response(status_code=304, headers=headers)
    return Response(payload, media_type="application/json", headers=headers)
