"""Recording, listing and withdrawing endorsements; the ones a new credential embeds.

An uploaded EndorsementCredential is checked as any verifier would (:class:`Verifier`:
every proof, the issuer's control of the signing key, the validity window, the status if it
has one, the OB 3.0 EndorsementCredential JSON Schema) and its subject must be this
micro-credential; a check that fails, or cannot be made (a did:web that cannot be fetched,
a status list elsewhere), refuses it (422) and nothing is stored. An endorser's did:web
document is fetched over https (:mod:`issuer.did_web_resolver`); a did:key needs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from issuer import did_web_resolver
from issuer.endorsements import (
    AlreadyRecorded,
    Endorsement,
    Endorser,
    InvalidEndorsement,
    NoEndorsement,
    Origin,
    UnknownMicroCredential,
    endorsed_version,
    endorser_name,
    issuer_id,
    managed_endorsement,
    micro_credential_url,
    shape_problems,
)
from issuer.identity import Issuer
from issuer.repository import endorsements as stored
from issuer.standards import did_web
from issuer.standards.openbadges3 import achievement_url
from issuer.verification import Verifier


async def endorser_verifier(
    verifier: Verifier, our_did: str, document: Mapping[str, Any], *, fresh: bool = False
) -> tuple[Verifier, str | None]:
    """A verifier that also knows the endorser's did:web keys (fetched over https), and why
    not when they cannot be had. did:key and our own DID need nothing fetched."""
    endorser = issuer_id(document)
    if not endorser.startswith(did_web.PREFIX) or endorser == our_did:
        return verifier, None
    try:
        keys = await did_web_resolver.assertion_keys(endorser, fresh=fresh)
        return verifier.with_keys(keys), None
    except did_web_resolver.Unresolved as error:
        return verifier, str(error)


async def _versions(conn: AsyncConnection, micro_credential_id: UUID) -> dict[int, str]:
    versions = await stored.published_versions(conn, micro_credential_id)
    if not versions:
        raise UnknownMicroCredential()
    return versions


async def record_upload(
    conn: AsyncConnection,
    issuer: Issuer,
    verifier: Verifier,
    micro_credential_id: UUID,
    document: Mapping[str, Any],
    *,
    by: str,
    at: datetime,
) -> Endorsement:
    """Accept an endorser's own signed EndorsementCredential once it verifies."""
    versions = await _versions(conn, micro_credential_id)
    if problems := shape_problems(document):
        raise InvalidEndorsement("This is not an EndorsementCredential.", errors=problems)
    version = endorsed_version(
        document["credentialSubject"]["id"],
        base_url=issuer.base_url,
        micro_credential_id=micro_credential_id,
        versions=set(versions),
    )
    current = await stored.endorsements_of(conn, micro_credential_id, current_only=True)
    if any(e.document.get("id") == document.get("id") for e in current if "id" in document):
        raise AlreadyRecorded("This endorsement is already recorded (withdraw it first).")
    trusting, unresolved = await endorser_verifier(
        verifier, issuer.profile.did, document, fresh=True
    )
    if unresolved is not None:
        raise InvalidEndorsement(
            "The endorser's did:web cannot be resolved.", errors=[f"issuer: {unresolved}"]
        )
    verdict = await trusting.verify_document(document, now=at)
    if not verdict.verified:
        raise InvalidEndorsement(
            "The endorsement does not verify.",
            errors=[f"{c.name}: {c.detail}" for c in verdict.checks if c.ok is not True],
        )
    recorded = Endorsement(
        id=uuid4(),
        micro_credential_id=micro_credential_id,
        version=version,
        origin=Origin.UPLOADED,
        endorser_name=endorser_name(document),
        endorser_id=issuer_id(document),
        document=dict(document),
        recorded_at=at,
        recorded_by=by,
    )
    await stored.add_endorsement(conn, recorded)
    return recorded


async def issue_managed(
    conn: AsyncConnection,
    issuer: Issuer,
    micro_credential_id: UUID,
    endorser: Endorser,
    comment: str,
    *,
    version: int | None,
    by: str,
    at: datetime,
) -> Endorsement:
    """The centre issues and signs the endorsement of an endorser it manages."""
    versions = await _versions(conn, micro_credential_id)
    if version is not None and version not in versions:
        raise InvalidEndorsement(
            "No such published version.", errors=[f"versions known: {sorted(versions)}"]
        )
    subject_id = (
        micro_credential_url(issuer.base_url, micro_credential_id)
        if version is None
        else achievement_url(issuer.base_url, micro_credential_id, version)
    )
    endorsement_id = uuid4()
    unsigned = managed_endorsement(
        endorsement_id=endorsement_id,
        centre=issuer.profile,
        endorser=endorser,
        comment=comment,
        subject_id=subject_id,
        title=versions[version if version is not None else max(versions)],
        base_url=issuer.base_url,
        at=at,
    )
    recorded = Endorsement(
        id=endorsement_id,
        micro_credential_id=micro_credential_id,
        version=version,
        origin=Origin.ISSUED,
        endorser_name=endorser.name,
        endorser_id=endorser.url,
        document=await issuer.signing.sign_async(unsigned, at=at),
        recorded_at=at,
        recorded_by=by,
    )
    await stored.add_endorsement(conn, recorded)
    return recorded


async def listed(
    conn: AsyncConnection,
    micro_credential_id: UUID,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Endorsement]:
    return await stored.endorsements_of(conn, micro_credential_id, after=after, limit=limit)


async def withdraw(
    conn: AsyncConnection, micro_credential_id: UUID, endorsement_id: UUID, *, by: str, at: datetime
) -> Endorsement:
    found = await stored.withdraw_endorsement(
        conn, micro_credential_id, endorsement_id, by=by, at=at
    )
    if found is None:
        raise NoEndorsement()
    return found


async def embedded_in(
    conn: AsyncConnection, micro_credential_id: UUID, version: int
) -> list[dict[str, Any]]:
    """The signed endorsements a credential of this version embeds now, oldest first."""
    current = await stored.endorsements_of(conn, micro_credential_id, current_only=True)
    return [e.document for e in current if e.applies_to(version)]


async def endorser_names(conn: AsyncConnection, document_ids: list[str]) -> dict[str, str]:
    return await stored.endorser_names(conn, document_ids)
