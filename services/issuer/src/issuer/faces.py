"""What a credential looks like to a person: badge faces and the LinkedIn "Add to profile" link.

Everything is read from the signed credential, so an image or page never says more than
the credential does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from dateutil.parser import isoparse

from issuer.domain import Kind
from issuer.standards.badge_baking import BadgeFace
from issuer.standards.openbadges3 import ATTENDANCE_TYPE, language_note, number

HEADINGS: dict[str, str] = {
    Kind.MICRO_CREDENTIAL: "Micro-credential",
    Kind.ATTENDANCE: "Certificate of attendance",
    Kind.STACK: "Micro-credential stack",
}


def kind_of(achievement: Mapping[str, Any]) -> str:
    if achievement.get("achievementType") == ATTENDANCE_TYPE:
        return Kind.ATTENDANCE
    if "/stacks/" in str(achievement.get("id", "")):
        return Kind.STACK
    return Kind.MICRO_CREDENTIAL


def long_date(value: str) -> str:
    """``2026-11-22T10:30:00Z`` -> ``22 November 2026``."""
    moment = isoparse(value)
    return f"{moment.day} {moment:%B %Y}"


def language_label(achievement: Mapping[str, Any]) -> str | None:
    """``"Taught in French"`` when the language of instruction is not English."""
    note = language_note(achievement.get("inLanguage"))
    return note[0].upper() + note[1:] if note else None


def plain_title(achievement: Mapping[str, Any]) -> str:
    """The achievement's name without the language note (shown on its own line)."""
    name = str(achievement["name"])
    note = language_note(achievement.get("inLanguage"))
    return name.removesuffix(f" ({note})") if note else name


def details(achievement: Mapping[str, Any], subject: Mapping[str, Any] | None) -> tuple[str, ...]:
    lines = []
    credits = (subject or {}).get("creditsEarned", achievement.get("creditsAvailable"))
    if credits is not None:
        lines.append(f"{number(credits)} credit points")
    hours = [tag for tag in achievement.get("tag", []) if tag.endswith("hours")]
    if hours:
        lines.append(" · ".join(hours))
    if subject and subject.get("narrative"):
        lines.append(str(subject["narrative"]))
    return tuple(lines)


def outcomes_of(achievement: Mapping[str, Any]) -> tuple[str, ...]:
    """The learning outcomes listed first in the criteria (``- ...`` lines)."""
    narrative = str((achievement.get("criteria") or {}).get("narrative", ""))
    first = (
        narrative.split("\n\n")[0]
        if "Learning outcomes:" not in narrative
        else (narrative.split("Learning outcomes:", 1)[1].split("\n\n")[0])
    )
    return tuple(line[2:].strip() for line in first.splitlines() if line.startswith("- "))


def result_of(achievement: Mapping[str, Any], subject: Mapping[str, Any]) -> str | None:
    results = subject.get("result") or []
    if not results:
        return None
    value = results[0].get("value")
    described = {d.get("id"): d for d in achievement.get("resultDescription", [])}
    description = described.get(results[0].get("resultDescription"), {})
    if description.get("resultType") == "Percent":
        required = description.get("requiredValue")
        return f"{value}%" + (f" (pass mark {required}%)" if required else "")
    return str(value)


def credential_face(
    document: Mapping[str, Any], *, learner_name: str, verify_url: str
) -> BadgeFace:
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    return BadgeFace(
        heading=HEADINGS[kind_of(achievement)],
        title=plain_title(achievement),
        learner_name=learner_name,
        details=details(achievement, subject),
        language_note=language_label(achievement),
        issued_on=long_date(document["validFrom"]),
        verify_url=verify_url,
        outcomes=outcomes_of(achievement),
        result=result_of(achievement, subject),
    )


def achievement_face(achievement: Mapping[str, Any]) -> BadgeFace:
    return BadgeFace(
        heading=HEADINGS[kind_of(achievement)],
        title=plain_title(achievement),
        learner_name=None,
        details=details(achievement, None),
        language_note=language_label(achievement),
        issued_on=None,
        verify_url=str(achievement["id"]),
    )


def linkedin_url(
    document: Mapping[str, Any], *, credential_id: Any, page_url: str, issuer_name: str
) -> str:
    """LinkedIn's "Add licence or certification" link, filled in."""
    issued = isoparse(document["validFrom"])
    fields: dict[str, Any] = {
        "startTask": "CERTIFICATION_NAME",
        "name": plain_title(document["credentialSubject"]["achievement"]),
        "organizationName": issuer_name,
        "issueYear": issued.year,
        "issueMonth": issued.month,
        "certUrl": page_url,
        "certId": str(credential_id),
    }
    if "validUntil" in document:
        expires = isoparse(document["validUntil"])
        fields["expirationYear"] = expires.year
        fields["expirationMonth"] = expires.month
    return "https://www.linkedin.com/profile/add?" + urlencode(fields)
