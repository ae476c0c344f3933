"""A learner's archive: everything the platform holds on them, from every service, in one zip.

The enrolment service owns the learner, so it answers for the whole platform: it asks each
other service's `GET /learners/me/data` with the learner's own token (each service applies
its own rules and sees only what that learner may see), and packs one JSON file per
service with a manifest. It is all or nothing: when a service cannot be reached, or does
not answer with its export, the archive is refused (503 `export-incomplete`, naming the
services) rather than handed over silently partial; the learner asks again later.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from credstack.privacy import EXPORT_PATH
from credstack.refusals import Reason, Refusal


class ExportIncomplete(Refusal):
    code = "export-incomplete"
    reason = Reason.UNAVAILABLE
    headers = {"Retry-After": "60"}


@dataclass(frozen=True)
class Part:
    """One service's export, or why it is missing."""

    service: str
    document: dict[str, Any] | None
    problem: str | None = None


async def _fetch(client: httpx.AsyncClient, service: str, url: str, authorization: str) -> Part:
    try:
        response = await client.get(
            url.rstrip("/") + EXPORT_PATH, headers={"Authorization": authorization}
        )
    except httpx.HTTPError as error:
        return Part(service, None, f"could not be reached ({type(error).__name__})")
    if response.status_code != 200:
        return Part(service, None, f"answered {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        return Part(service, None, "answered something that is not JSON")
    if not isinstance(document, dict) or document.get("service") != service:
        return Part(service, None, "answered something that is not its export")
    return Part(service, document)


async def gather(
    sources: Mapping[str, str],
    authorization: str,
    *,
    wait_seconds: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Part]:
    """Every source's export, asked at once; ExportIncomplete when any is missing."""
    async with httpx.AsyncClient(timeout=wait_seconds, transport=transport) as client:
        parts = await asyncio.gather(
            *(_fetch(client, service, url, authorization) for service, url in sources.items())
        )
    missing = {p.service: p.problem for p in parts if p.document is None}
    if missing:
        raise ExportIncomplete(
            "Your archive cannot be made now: "
            + "; ".join(f"the {s} service {why}" for s, why in sorted(missing.items()))
            + ". Nothing was left out silently; please ask again later.",
            services=sorted(missing),
        )
    return list(parts)


def pack(learner_id: UUID, parts: list[Part], *, at: datetime) -> bytes:
    """The zip: `manifest.json` and `<service>.json` for each part."""
    manifest = {
        "learner_id": str(learner_id),
        "generated_at": at.isoformat(),
        "complete": True,
        "services": [
            {"service": p.service, "file": f"{p.service}.json", "answered": True} for p in parts
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        for part in parts:
            archive.writestr(f"{part.service}.json", json.dumps(part.document, indent=2))
    return buffer.getvalue()
