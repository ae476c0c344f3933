"""Endorsements of a micro-credential: the rules, free of I/O.

An endorsement is an OB 3.0 ``EndorsementCredential`` whose subject is the micro-credential's
achievement: one version of it (``<base>/achievements/<id>/versions/<n>``) or every version
(``<base>/achievements/<id>``). It comes two ways:

- **uploaded**: signed by the endorser itself (its DID is the credential's ``issuer``), and
  accepted only once it verifies;
- **issued**: for an endorser the centre manages (no key of its own), the centre issues and
  signs it *as the centre*: its ``issuer`` is the centre, and the endorser is named in the
  credential's name and description and in ``endorsementComment``. Naming the endorser as
  ``issuer`` while the centre's key signs would fail every verifier's issuer check (the key's
  controller must be the issuer), so the credential says what is verifiable: the centre
  attests that the endorser endorses.

Credentials issued afterwards embed the endorsements current at their issue in
``credentialSubject.achievement.endorsement``; withdrawing one changes nothing already issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from credstack.refusals import NotFound, Reason, Refusal
from issuer.standards.openbadges3 import (
    OB_CONTEXT,
    VC_CONTEXT,
    IssuerProfile,
    achievement_url,
    timestamp,
)


class Origin(StrEnum):
    UPLOADED = "uploaded"
    ISSUED = "issued"


class InvalidEndorsement(Refusal):
    code = "invalid-endorsement"
    reason = Reason.UNPROCESSABLE


class AlreadyRecorded(Refusal):
    code = "endorsement-already-recorded"
    reason = Reason.CONFLICT


class NoEndorsement(NotFound):
    code = "no-endorsement"

    def __init__(self) -> None:
        super().__init__("No endorsement of this micro-credential has this id.")


class UnknownMicroCredential(NotFound):
    code = "unknown-micro-credential"

    def __init__(self) -> None:
        super().__init__("The issuer knows no published version of this micro-credential.")


@dataclass(frozen=True)
class Endorser:
    """An organisation the centre endorses on behalf of (it holds no key of its own)."""

    name: str
    url: str
    email: str | None = None


@dataclass(frozen=True)
class Endorsement:
    id: UUID
    micro_credential_id: UUID
    version: int | None
    origin: Origin
    endorser_name: str
    endorser_id: str
    document: dict[str, Any]
    recorded_at: datetime
    recorded_by: str
    withdrawn_at: datetime | None = None

    def applies_to(self, version: int) -> bool:
        return self.withdrawn_at is None and self.version in (None, version)


def micro_credential_url(base_url: str, micro_credential_id: UUID) -> str:
    """The subject id of an endorsement of every version."""
    return f"{base_url}/achievements/{micro_credential_id}"


def endorsed_version(
    subject_id: object, *, base_url: str, micro_credential_id: UUID, versions: set[int]
) -> int | None:
    """The version an endorsement's subject names (None: every version).

    Raises InvalidEndorsement if it names another achievement or a version unknown here.
    """
    every = micro_credential_url(base_url, micro_credential_id)
    if subject_id == every:
        return None
    for version in versions:
        if subject_id == achievement_url(base_url, micro_credential_id, version):
            return version
    raise InvalidEndorsement(
        "The endorsement is not of this micro-credential.",
        errors=[
            f"credentialSubject.id is {subject_id!r}: it must be {every} (every version) or "
            f"{every}/versions/<n> for a published version ({sorted(versions)})"
        ],
    )


def shape_problems(document: Mapping[str, Any]) -> list[str]:
    """What makes ``document`` no EndorsementCredential at all (before any check)."""
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    found = []
    if not {"VerifiableCredential", "EndorsementCredential"} <= set(types):
        found.append("type must include VerifiableCredential and EndorsementCredential")
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str):
        found.append("credentialSubject must be one object with an id")
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str):
        found.append("issuer must be the endorser's id or Profile")
    return found


def endorser_name(document: Mapping[str, Any]) -> str:
    """The endorser's name as the credential gives it (its issuer's, else the issuer id)."""
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        return str(issuer.get("name") or issuer.get("id"))
    return str(issuer)


def issuer_id(document: Mapping[str, Any]) -> str:
    issuer = document.get("issuer")
    return str(issuer.get("id") if isinstance(issuer, dict) else issuer)


def managed_endorsement(
    *,
    endorsement_id: UUID,
    centre: IssuerProfile,
    endorser: Endorser,
    comment: str,
    subject_id: str,
    title: str,
    base_url: str,
    at: datetime,
) -> dict[str, Any]:
    """The unsigned EndorsementCredential the centre issues for an endorser it manages."""
    contact = f", {endorser.email}" if endorser.email else ""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base_url}/endorsements/{endorsement_id}",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": f"{endorser.name} endorses {title}",
        "description": (
            f"{centre.name} records that {endorser.name} ({endorser.url}{contact}) endorses "
            f"the micro-credential {title}."
        ),
        "issuer": centre.as_json(),
        "validFrom": timestamp(at),
        "credentialSubject": {
            "id": subject_id,
            "type": ["EndorsementSubject"],
            "endorsementComment": f"Endorsed by {endorser.name} ({endorser.url}): {comment}",
        },
    }
