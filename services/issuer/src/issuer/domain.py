"""Open Badges 3.0 credentials for micro-credentials, as plain JSON-LD. No I/O here.

Every property used is defined by the VC 2.0 and OB 3.0 contexts (signing refuses a
document with an undefined term). Arrays stay arrays, nulls and empty lists are left out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from dateutil.relativedelta import relativedelta

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)


@dataclass(frozen=True)
class IssuerProfile:
    did: str
    name: str
    url: str
    email: str | None = None

    def as_json(self) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "id": self.did,
            "type": ["Profile"],
            "name": self.name,
            "url": self.url,
        }
        if self.email:
            profile["email"] = self.email
        return profile


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    did: str | None = None


@dataclass(frozen=True)
class Award:
    credential_id: UUID
    enrolment_id: UUID
    score: Decimal
    evidence: list[str]
    awarded_at: datetime


def hashed_email(email: str, salt: str) -> dict[str, Any]:
    """An IdentityObject for the recipient's email: sha256 of the address and a salt."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "hashed": True,
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "salt": salt,
    }


def new_salt() -> str:
    return secrets.token_hex(16)


def _timestamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _number(value: Any) -> float | int:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def achievement(snapshot: dict[str, Any], *, base_url: str) -> dict[str, Any]:
    """The OB 3.0 Achievement for one exact micro-credential version."""
    achievement_id = (
        f"{base_url}/achievements/{snapshot['micro_credential_id']}/versions/{snapshot['version']}"
    )
    outcomes = snapshot.get("learning_outcomes", [])
    narrative = "Demonstrated, in assessment, each learning outcome:\n" + "\n".join(
        f"- {o['description']}" for o in outcomes
    )
    narrative += f"\n\nPass mark: {_number(snapshot['pass_mark'])}% overall."
    result: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": snapshot["title"],
        "description": snapshot["description"],
        "criteria": {"narrative": narrative},
        "humanCode": snapshot["code"],
        "version": str(snapshot["version"]),
        "creditsAvailable": _number(snapshot["credit_points"]),
        "inLanguage": snapshot.get("language") or "en",
        "resultDescription": [
            {
                "id": f"{achievement_id}#overall-score",
                "type": ["ResultDescription"],
                "name": "Overall score",
                "resultType": "Percent",
                "valueMin": "0",
                "valueMax": "100",
                "requiredValue": str(_number(snapshot["pass_mark"])),
            }
        ],
    }
    if snapshot.get("field_of_study"):
        result["fieldOfStudy"] = snapshot["field_of_study"]
    alignments = [
        {
            "type": ["Alignment"],
            "targetName": a["name"],
            "targetUrl": a["url"],
            **({"targetCode": a["code"]} if a.get("code") else {}),
            **({"targetFramework": a["framework"]} if a.get("framework") else {}),
        }
        for a in snapshot.get("alignments", [])
    ]
    if alignments:
        result["alignment"] = alignments
    return result


def open_badge_credential(
    *,
    issuer: IssuerProfile,
    recipient: Recipient,
    snapshot: dict[str, Any],
    award: Award,
    base_url: str,
    issued_at: datetime,
    salt: str,
) -> dict[str, Any]:
    """An unsigned OB 3.0 OpenBadgeCredential for a passed micro-credential."""
    earned = achievement(snapshot, base_url=base_url)
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [hashed_email(recipient.email, salt)],
        "achievement": earned,
        "creditsEarned": earned["creditsAvailable"],
        "result": [
            {
                "type": ["Result"],
                "resultDescription": earned["resultDescription"][0]["id"],
                "value": str(_number(award.score)),
            }
        ],
    }
    if recipient.did:
        subject["id"] = recipient.did
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT],
        "id": f"{base_url}/credentials/{award.credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": snapshot["title"],
        "issuer": issuer.as_json(),
        "validFrom": _timestamp(issued_at),
        "awardedDate": _timestamp(award.awarded_at),
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if award.evidence:
        document["evidence"] = [{"id": url, "type": ["Evidence"]} for url in award.evidence]
    if expiry := snapshot.get("expiry_months"):
        document["validUntil"] = _timestamp(issued_at + relativedelta(months=int(expiry)))
    return document
