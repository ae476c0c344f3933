"""Open Badges 2.0 hosted documents, derived from an issued OB 3.0 credential. No I/O.

Backpacks (Badgr, Moodle) and LinkedIn still speak OB 2.0: a hosted ``Assertion`` whose
``id`` is the URL that serves it, its ``BadgeClass`` and the ``Issuer`` profile, all on
the issuer's origin. The recipient is the same salted email hash as in the OB 3.0
credential. A revoked assertion is served with HTTP 410 and ``revoked: true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.standards.openbadges3 import IssuerProfile

OB2_CONTEXT = "https://w3id.org/openbadges/v2"


def issuer_url(base_url: str) -> str:
    return f"{base_url}/ob2/issuer"


def assertion_url(base_url: str, credential_id: Any) -> str:
    return f"{base_url}/ob2/assertions/{credential_id}"


def badge_class_url(achievement_id: str) -> str:
    """The BadgeClass of an OB 3.0 achievement lives next to it: ``<achievement>/badge``."""
    return f"{achievement_id}/badge"


def issuer_profile(profile: IssuerProfile, *, base_url: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": issuer_url(base_url),
        "name": profile.name,
        "url": profile.url,
    }
    if profile.email:
        document["email"] = profile.email
    return document


def badge_class(achievement: Mapping[str, Any], *, base_url: str) -> dict[str, Any]:
    """The BadgeClass for an OB 3.0 Achievement (same name, description, criteria, image)."""
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(achievement["id"]),
        "name": achievement["name"],
        "description": achievement["description"],
        "image": achievement["image"]["id"],
        "criteria": {"id": achievement["id"], "narrative": achievement["criteria"]["narrative"]},
        "issuer": issuer_url(base_url),
    }
    if tags := achievement.get("tag"):
        document["tags"] = list(tags)
    alignments = [
        {
            "targetName": a["targetName"],
            "targetUrl": a["targetUrl"],
            **({"targetCode": a["targetCode"]} if a.get("targetCode") else {}),
            **({"targetFramework": a["targetFramework"]} if a.get("targetFramework") else {}),
        }
        for a in achievement.get("alignment", [])
    ]
    if alignments:
        document["alignment"] = alignments
    return document


def assertion(
    credential: Mapping[str, Any],
    *,
    credential_id: Any,
    base_url: str,
    revocation_reason: str | None = None,
) -> dict[str, Any]:
    """The hosted Assertion for an OB 3.0 credential; ``revoked`` when a reason is given."""
    subject = credential["credentialSubject"]
    identity = subject["identifier"][0]
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_url(base_url, credential_id),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": identity["salt"],
            "identity": identity["identityHash"],
        },
        "badge": badge_class_url(subject["achievement"]["id"]),
        "verification": {"type": "hosted"},
        "issuedOn": credential["validFrom"],
        "image": f"{base_url}/credentials/{credential_id}/ob2.png",
    }
    if "validUntil" in credential:
        document["expires"] = credential["validUntil"]
    if narrative := subject.get("narrative"):
        document["narrative"] = narrative
    evidence = [
        {"id": item["id"], **({"name": item["name"]} if item.get("name") else {})}
        for item in credential.get("evidence", [])
        if item.get("id")
    ]
    if evidence:
        document["evidence"] = evidence
    if revocation_reason is not None:
        document["revoked"] = True
        document["revocationReason"] = revocation_reason
    return document
