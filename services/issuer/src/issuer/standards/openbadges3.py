"""Open Badges 3.0 credentials for micro-credentials, as plain JSON-LD (OB 3.0 and VC 2.0). No I/O.

Three kinds, each for one exact published version of what was earned:

- a micro-credential (``AssessmentPassed``): achievement type ``MicroCredential`` with the
  result, credit points earned and evidence;
- a certificate of attendance (``AttendanceOnlyCompleted``): its own achievement, which
  claims attendance of the contact sessions and no assessment (no result, no credit);
- a stack (every member held): a ``MicroCredential`` whose evidence references the
  member credentials and whose credit points are theirs summed.

Every property used is defined by the VC 2.0 and OB 3.0 contexts (signing refuses a
document with an undefined term). Hours have no OB 3.0 term: they are stated in the
achievement's description, criteria and tags. When the language of instruction is not
English it is named in the achievement's and the credential's name and description (the
policy wants it prominent) and given as ``inLanguage``. Arrays stay arrays, nulls and
empty lists are left out.

Long on purpose: the three documents share their parts, and read best side by side.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from dateutil.relativedelta import relativedelta

from credstack.numbers import json_number
from issuer.languages import language_name

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
ATTENDANCE_TYPE = "ext:CertificateOfAttendance"


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
class StatusEntry:
    """A credential's place in the issuer's Bitstring Status Lists.

    OB 3.0's JSON Schema allows one ``credentialStatus`` object (no array), so a credential
    names one entry: the ``suspension`` list, whose bit is set while it is suspended and
    for good once it is revoked. Every verifier then sees both; the ``revocation`` list at
    the same index tells the final state apart (credentials issued before named it).
    """

    list_url: str
    index: int
    purpose: str = "suspension"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


@dataclass(frozen=True)
class Issuance:
    """What every kind of credential needs besides its achievement."""

    credential_id: UUID
    issuer: IssuerProfile
    recipient: Recipient
    base_url: str
    issued_at: datetime
    salt: str
    status: StatusEntry

    @property
    def url(self) -> str:
        return f"{self.base_url}/credentials/{self.credential_id}"


@dataclass(frozen=True)
class Pass:
    """A pass: the score and the evidence the LMS gave."""

    score: Decimal
    evidence: list[str]
    awarded_at: datetime


@dataclass(frozen=True)
class Attendance:
    sessions_attended: int
    sessions_total: int | None
    completed_at: datetime


@dataclass(frozen=True)
class HeldMember:
    """A member credential counted towards a stack."""

    micro_credential_id: UUID
    credential_url: str
    title: str
    credit_points: Decimal
    awarded_at: datetime


def hashed_email(email: str, salt: str) -> dict[str, Any]:
    """An IdentityObject for the recipient's email: sha256 of the address and a salt."""
    return {
        "type": "IdentityObject",
        "hashed": True,
        "identityHash": email_hash(email, salt),
        "identityType": "emailAddress",
        "salt": salt,
    }


def email_hash(email: str, salt: str) -> str:
    """``sha256$<hex>`` of the lower-cased address followed by the salt (OB 2.0 and 3.0)."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()
    return f"sha256${digest}"


def new_salt() -> str:
    """A fresh salt per credential, so two credentials of one learner cannot be linked."""
    return secrets.token_hex(16)


def timestamp(moment: datetime) -> str:
    """XML dateTimeStamp in UTC to the second (``2026-01-31T10:00:00Z``)."""
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def number(value: Any) -> float | int:
    """A JSON number for a decimal quantity (3.125 stays 3.125, 65.0 becomes 65)."""
    return json_number(Decimal(str(value)))


def language_note(language: str | None) -> str | None:
    """``"taught in French"`` when instruction is not in English, else None."""
    if not language or language.lower().split("-")[0] == "en":
        return None
    return f"taught in {language_name(language)}"


def _titled(title: str, language: str | None) -> str:
    note = language_note(language)
    return f"{title} ({note})" if note else title


def _hours_line(snapshot: Mapping[str, Any]) -> str:
    parts = [f"{number(snapshot['notional_hours'])} notional hours of learning"]
    if snapshot.get("cpd_hours") not in (None, "0", 0):
        parts.append(f"{number(snapshot['cpd_hours'])} CPD hours")
    return ", ".join(parts)


def _language_line(language: str | None) -> str | None:
    note = language_note(language)
    return f"Language of instruction: {language_name(language or 'en')}." if note else None


def _description(snapshot: Mapping[str, Any], *lines: str | None) -> str:
    text = [line for line in (_language_line(snapshot.get("language")), *lines) if line]
    return "\n\n".join(text)


def _tags(snapshot: Mapping[str, Any]) -> list[str]:
    tags = ["micro-credential", f"{number(snapshot['credit_points'])} credit points"]
    tags.append(f"{number(snapshot['notional_hours'])} notional hours")
    if snapshot.get("cpd_hours") not in (None, "0", 0):
        tags.append(f"{number(snapshot['cpd_hours'])} CPD hours")
    if note := language_note(snapshot.get("language")):
        tags.append(note)
    return tags


def achievement_url(base_url: str, micro_credential_id: Any, version: Any) -> str:
    return f"{base_url}/achievements/{micro_credential_id}/versions/{version}"


def achievement(snapshot: Mapping[str, Any], *, base_url: str) -> dict[str, Any]:
    """The OB 3.0 Achievement for one exact micro-credential version."""
    achievement_id = achievement_url(base_url, snapshot["micro_credential_id"], snapshot["version"])
    outcomes = snapshot.get("learning_outcomes", [])
    narrative = "Demonstrated, in assessment, each learning outcome:\n" + "\n".join(
        f"- {o['description']}" for o in outcomes
    )
    narrative += f"\n\nPass mark: {number(snapshot['pass_mark'])}% overall."
    if snapshot.get("assessment_description"):
        narrative += f"\n\nAssessment: {snapshot['assessment_description']}"
    narrative += f"\n\nWorkload: {_hours_line(snapshot)}."
    if endorsements := snapshot.get("endorsements"):
        narrative += "\n\nEndorsed by: " + "; ".join(e["name"] for e in endorsements) + "."
    language = snapshot.get("language") or "en"
    result: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": _titled(snapshot["title"], language),
        "description": _description(
            snapshot, snapshot["description"], f"Workload: {_hours_line(snapshot)}."
        ),
        "criteria": {"narrative": narrative},
        "image": {
            "id": f"{achievement_id}/image.png",
            "type": "Image",
            "caption": snapshot["title"],
        },
        "humanCode": snapshot["code"],
        "version": str(snapshot["version"]),
        "creditsAvailable": number(snapshot["credit_points"]),
        "inLanguage": language,
        "tag": _tags(snapshot),
        "resultDescription": [
            {
                "id": f"{achievement_id}#overall-score",
                "type": ["ResultDescription"],
                "name": "Overall score",
                "resultType": "Percent",
                "valueMin": "0",
                "valueMax": "100",
                "requiredValue": str(number(snapshot["pass_mark"])),
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


def attendance_achievement(snapshot: Mapping[str, Any], *, base_url: str) -> dict[str, Any]:
    """The certificate of attendance's own Achievement: contact attended, nothing assessed."""
    achievement_id = (
        achievement_url(base_url, snapshot["micro_credential_id"], snapshot["version"])
        + "/attendance"
    )
    language = snapshot.get("language") or "en"
    title = f"Certificate of attendance: {snapshot['title']}"
    return {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": ATTENDANCE_TYPE,
        "name": _titled(title, language),
        "description": _description(
            snapshot,
            f"Attended the contact sessions of the micro-credential {snapshot['title']} "
            f"({snapshot['code']}). This certificate makes no claim of assessment: it is "
            "not the micro-credential and carries no credit.",
        ),
        "criteria": {
            "narrative": "Attended the scheduled contact sessions. The assessment was not "
            "completed or not passed."
        },
        "image": {
            "id": f"{achievement_id}/image.png",
            "type": "Image",
            "caption": title,
        },
        "humanCode": f"{snapshot['code']}-ATT",
        "version": str(snapshot["version"]),
        "inLanguage": language,
        "tag": ["certificate of attendance", *filter(None, [language_note(language)])],
    }


def stack_url(base_url: str, stack_id: Any, version: Any) -> str:
    return f"{base_url}/stacks/{stack_id}/versions/{version}"


def stack_achievement(
    stack: Mapping[str, Any], member_titles: Mapping[str, str], *, base_url: str
) -> dict[str, Any]:
    """A stack's Achievement: itself a micro-credential made of its members.

    ``member_titles`` maps member ids (as strings) to titles where the catalogue told us.
    """
    achievement_id = stack_url(base_url, stack["stack_id"], stack["version"])
    language = stack.get("language") or "en"
    members = [str(m) for m in stack["members"]]
    required = min(stack.get("required_count") or len(members), len(members))
    narrative = f"Earn {required} of the {len(members)} micro-credentials of this {stack['kind']}"
    if stack.get("within_months"):
        narrative += f", all within {stack['within_months']} months"
    narrative += ":\n" + "\n".join(f"- {member_titles.get(m, m)}" for m in members)
    outcomes = stack.get("learning_outcomes") or []
    if outcomes:
        narrative += "\n\nLearning outcomes:\n" + "\n".join(
            f"- {o['description']}" for o in outcomes
        )
    result: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": _titled(stack["title"], language),
        "description": _description(stack, stack["description"]),
        "criteria": {"narrative": narrative},
        "image": {
            "id": f"{achievement_id}/image.png",
            "type": "Image",
            "caption": stack["title"],
        },
        "humanCode": stack["code"],
        "version": str(stack["version"]),
        "creditsAvailable": number(stack["credit_points"]),
        "inLanguage": language,
        "tag": [
            f"micro-credential {stack['kind']}",
            f"{number(stack['credit_points'])} credit points",
            *filter(None, [language_note(language)]),
        ],
    }
    if stack.get("field_of_study"):
        result["fieldOfStudy"] = stack["field_of_study"]
    return result


def _credential(
    issuance: Issuance,
    earned: dict[str, Any],
    *,
    awarded_at: datetime,
    subject_extra: Mapping[str, Any],
    valid_until: datetime | None = None,
    evidence: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [hashed_email(issuance.recipient.email, issuance.salt)],
        "achievement": earned,
        **subject_extra,
    }
    if issuance.recipient.did:
        subject = {"id": issuance.recipient.did, **subject}
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT],
        "id": issuance.url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": earned["name"],
        "description": earned["description"],
        "image": {
            "id": f"{issuance.url}/image.png",
            "type": "Image",
            "caption": earned["name"],
        },
        "issuer": issuance.issuer.as_json(),
        "validFrom": timestamp(issuance.issued_at),
        "awardedDate": timestamp(awarded_at),
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": issuance.status.as_json(),
    }
    if valid_until is not None:
        document["validUntil"] = timestamp(valid_until)
    if evidence:
        document["evidence"] = [dict(item) for item in evidence]
    return document


def valid_until_of(document: Mapping[str, Any]) -> datetime | None:
    """The ``validUntil`` of a credential document, None when it does not expire."""
    value = document.get("validUntil")
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _expiry(snapshot: Mapping[str, Any], issued_at: datetime) -> datetime | None:
    months = snapshot.get("expiry_months")
    return issued_at + relativedelta(months=int(months)) if months else None


def open_badge_credential(
    issuance: Issuance, snapshot: Mapping[str, Any], passed: Pass
) -> dict[str, Any]:
    """An unsigned OB 3.0 OpenBadgeCredential for a passed micro-credential."""
    earned = achievement(snapshot, base_url=issuance.base_url)
    return _credential(
        issuance,
        earned,
        awarded_at=passed.awarded_at,
        subject_extra={
            "creditsEarned": earned["creditsAvailable"],
            "result": [
                {
                    "type": ["Result"],
                    "resultDescription": earned["resultDescription"][0]["id"],
                    "value": str(number(passed.score)),
                }
            ],
        },
        valid_until=_expiry(snapshot, issuance.issued_at),
        evidence=[
            {"id": url, "type": ["Evidence"], "name": "Assessed work"} for url in passed.evidence
        ],
    )


def attendance_certificate(
    issuance: Issuance, snapshot: Mapping[str, Any], attendance: Attendance
) -> dict[str, Any]:
    """An unsigned certificate of attendance: no result, no credit, no claim of assessment."""
    sessions = f"Attended {attendance.sessions_attended}"
    if attendance.sessions_total:
        sessions += f" of {attendance.sessions_total}"
    return _credential(
        issuance,
        attendance_achievement(snapshot, base_url=issuance.base_url),
        awarded_at=attendance.completed_at,
        subject_extra={"narrative": f"{sessions} contact sessions."},
    )


def stack_credential(
    issuance: Issuance,
    stack: Mapping[str, Any],
    members: Sequence[HeldMember],
    member_titles: Mapping[str, str],
) -> dict[str, Any]:
    """An unsigned stack credential: each member credential held is referenced as evidence,
    and the credit points earned are the members' summed."""
    earned = stack_achievement(stack, member_titles, base_url=issuance.base_url)
    return _credential(
        issuance,
        earned,
        awarded_at=max(m.awarded_at for m in members),
        subject_extra={
            "creditsEarned": number(sum((m.credit_points for m in members), Decimal(0)))
        },
        evidence=[
            {
                "id": m.credential_url,
                "type": ["Evidence"],
                "name": m.title,
                "genre": "Member micro-credential",
            }
            for m in members
        ],
    )
