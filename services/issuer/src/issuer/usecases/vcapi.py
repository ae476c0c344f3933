"""The W3C VC-API: issue any VC 2.0 credential (the issuer adds what it owns), verify
credentials and presentations, update a VC-API credential's status.

Issuing keeps the caller's claims and adds: ``issuer`` (this issuer's DID) when absent,
``id`` (``<public url>/credentials/<uuid>``, served by ``GET /credentials/{id}``) when
absent, ``validFrom`` (now) when absent, a ``BitstringStatusListEntry`` in this issuer's
lists when the caller gave no ``credentialStatus``, and the ``eddsa-rdfc-2022`` proof. A
credential that names another issuer, uses a term its contexts do not define, or breaks a
VC 2.0 rule checked below is refused (422) and nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pyld.jsonld import DEFAULT_BASE_IRI
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.refusals import NotFound, Reason, Refusal
from issuer import repository
from issuer.identity import Issuer
from issuer.standards import data_integrity
from issuer.standards.bitstring_status_list import Purpose
from issuer.standards.jsonld import expand_checked
from issuer.standards.openbadges3 import VC_CONTEXT, timestamp
from issuer.usecases import status_lists
from issuer.verification import Check, Verifier

#: An absolute URI: a scheme, a colon, something after it (RFC 3986 § 3).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
AUTHENTICATION = "authentication"
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
DI_CONTEXT = "https://w3id.org/security/data-integrity/v2"


class InvalidCredential(Refusal):
    code = "invalid-credential"
    reason = Reason.UNPROCESSABLE


class NoVcapiCredential(NotFound):
    code = "no-credential"

    def __init__(self) -> None:
        super().__init__("No credential was issued with this id.")


class StatusNotSupported(Refusal):
    code = "status-not-supported"
    reason = Reason.UNPROCESSABLE


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _problems(credential: Mapping[str, Any], our_did: str) -> list[str]:
    """The VC 2.0 rules a credential to issue breaks (empty when none)."""
    found: list[str] = []
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] not in (VC_CONTEXT, VC1_CONTEXT):
        found.append(f"@context must be a list starting with {VC_CONTEXT} (or VC 1.1's)")
    types = credential.get("type")
    if not isinstance(types, list | str) or "VerifiableCredential" not in _list(types):
        found.append("type must include VerifiableCredential")
    elif not all(isinstance(t, str) and t for t in _list(types)):
        found.append("type must be strings")
    if "id" in credential and not (
        isinstance(credential["id"], str) and _URL.match(credential["id"])
    ):
        found.append("id must be one URL")
    found.extend(_subject_and_issuer_problems(credential, our_did))
    for field in ("validFrom", "validUntil", "issuanceDate", "expirationDate"):
        value = credential.get(field)
        if value is not None and not (isinstance(value, str) and _DATE_TIME_STAMP.match(value)):
            found.append(f"{field} must be an XML dateTimeStamp")
    found.extend(_typed_entry_problems(credential))
    found.extend(_related_resource_problems(credential.get("relatedResource")))
    for field in ("name", "description"):
        for value in _list(credential.get(field, [])):
            if not isinstance(value, str | dict):
                found.append(f"{field} must be a string or a language value object")
    if "proof" in credential:
        found.append("the issuer adds the proof: send the credential unsigned")
    return found


def _subject_and_issuer_problems(credential: Mapping[str, Any], our_did: str) -> list[str]:
    found: list[str] = []
    subjects = credential.get("credentialSubject")
    if not subjects or not all(isinstance(s, dict) and s for s in _list(subjects)):
        found.append("credentialSubject must be one or more non-empty objects")
    else:
        for subject in _list(subjects):
            if "id" in subject and not (
                isinstance(subject["id"], str) and _URL.match(subject["id"])
            ):
                found.append("credentialSubject.id must be one URL")
    issuer = credential.get("issuer")
    if "issuer" in credential and not issuer:
        found.append("issuer must be a URL or an object with an id URL")
    if issuer:
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if not isinstance(issuer_id, str) or not _URL.match(issuer_id):
            found.append("issuer must be a URL or an object with an id URL")
        elif issuer_id != our_did:
            found.append(f"this issuer signs as {our_did}, not {issuer_id}")
    return found


def _typed_entry_problems(credential: Mapping[str, Any]) -> list[str]:
    """Status, schema, evidence, terms of use, refresh: objects with a type (and a URL id)."""
    found: list[str] = []
    for field in (
        "credentialStatus",
        "credentialSchema",
        "evidence",
        "termsOfUse",
        "refreshService",
    ):
        for item in _list(credential.get(field, [])):
            if not isinstance(item, dict):
                found.append(f"{field} entries must be objects")
                continue
            kind = item.get("type")
            if not (isinstance(kind, str | list) and kind):
                found.append(f"{field}.type is required")
            if field == "credentialSchema" and "id" not in item:
                found.append("credentialSchema.id is required")
            if "id" in item and not (isinstance(item["id"], str) and _URL.match(item["id"])):
                found.append(f"{field}.id must be one URL")
    return found


def _related_resource_problems(value: Any) -> list[str]:
    """VC 2.0 § 5.3: objects with a unique URL ``id`` and a ``digestSRI`` or
    ``digestMultibase``. (The digests are the issuer's claim: nothing is fetched.)"""
    if value is None:
        return []
    found = []
    ids = []
    for item in _list(value):
        if not isinstance(item, dict):
            found.append("relatedResource entries must be objects")
            continue
        if not (isinstance(item.get("id"), str) and _URL.match(item["id"])):
            found.append("relatedResource.id must be one URL")
        ids.append(item.get("id"))
        if not item.get("digestSRI") and not item.get("digestMultibase"):
            found.append("relatedResource needs digestSRI or digestMultibase")
    if len(ids) != len(set(map(str, ids))):
        found.append("relatedResource ids must be unique")
    return found


async def issue(
    conn: AsyncConnection,
    issuer: Issuer,
    credential: Mapping[str, Any],
    *,
    by: str,
    at: datetime,
) -> dict[str, Any]:
    """The credential, completed and signed, stored for ``GET /credentials/{id}``.

    Raises InvalidCredential (nothing stored) when it breaks a rule or cannot be signed.
    """
    if problems := _problems(credential, issuer.profile.did):
        raise InvalidCredential("The credential cannot be issued.", errors=problems)
    key = uuid4()
    document: dict[str, Any] = dict(credential)
    document.setdefault("id", f"{issuer.base_url}/credentials/{key}")
    document.setdefault("issuer", issuer.profile.did)
    if document["@context"][0] == VC1_CONTEXT:
        # VC 1.1 (still sent by some systems and test suites): its dates, and the Data
        # Integrity context its own lacks; it defines no BitstringStatusListEntry, so no
        # status entry is added
        document.setdefault("issuanceDate", timestamp(at))
        if DI_CONTEXT not in document["@context"]:
            document["@context"] = [*document["@context"], DI_CONTEXT]
    else:
        document.setdefault("validFrom", timestamp(at))
    if "credentialStatus" not in document and document["@context"][0] == VC_CONTEXT:
        entry = await status_lists.allocate(conn, issuer, key, at=at)
        document["credentialStatus"] = entry.as_json()
    if relative := _relative_types(document, issuer):
        raise InvalidCredential(
            "The credential cannot be issued.",
            errors=[
                f"type {t!r} is not defined by the @context (not a term, not a URL)"
                for t in relative
            ],
        )
    try:
        signed = issuer.signing.sign(document, at=at)
    except (data_integrity.UndefinedTermsError, ValueError) as error:
        raise InvalidCredential("The credential cannot be signed.", errors=[str(error)]) from None
    except Exception as error:  # pyld's JsonLdError: a context we do not have, bad JSON-LD
        raise InvalidCredential(
            "The credential is not valid JSON-LD.", errors=[str(error)]
        ) from None
    await repository.save_vcapi_credential(conn, key, signed, by=by, at=at)
    return signed


def _relative_types(document: Mapping[str, Any], issuer: Issuer) -> list[str]:
    """Type values the contexts leave as relative IRIs (e.g. under ``"@vocab": null``):
    VC 2.0 wants every type a term or an absolute URL."""
    try:
        expanded, _ = expand_checked(document, issuer.signing.loader)
    except Exception:  # malformed JSON-LD: signing reports it with its reason
        return []
    found: list[str] = []
    stack: list[Any] = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for kind in _list(node.get("@type", [])):
                # pyld resolves a relative type against its default base IRI
                if isinstance(kind, str) and (
                    kind.startswith(DEFAULT_BASE_IRI) or not _URL.match(kind)
                ):
                    found.append(kind.removeprefix(DEFAULT_BASE_IRI))
            stack.extend(v for k, v in node.items() if k != "@type")
    return found


async def credential(conn: AsyncConnection, credential_id: UUID) -> dict[str, Any]:
    found = await repository.vcapi_credential_by_id(conn, credential_id)
    if found is None:
        raise NoVcapiCredential()
    return found[0]


#: (purpose, bit set) -> the credential status that sets exactly that bit.
_STATUS_AFTER = {
    (Purpose.REVOCATION, True): "revoked",
    (Purpose.SUSPENSION, True): "suspended",
    (Purpose.SUSPENSION, False): "active",
}


async def update_status(
    conn: AsyncConnection,
    issuer: Issuer,
    credential_id: UUID,
    purpose: str,
    value: bool,
    *,
    at: datetime,
) -> str:
    """Set (or for suspension, clear) a VC-API credential's status bit; re-sign its lists.

    Revocation is final: clearing it, or suspending a revoked credential, is refused.
    """
    found = await repository.vcapi_credential_by_id(conn, credential_id, for_update=True)
    if found is None:
        raise NoVcapiCredential()
    _, before = found
    try:
        after = _STATUS_AFTER[(Purpose(purpose), value)]
    except (KeyError, ValueError):
        raise StatusNotSupported(
            "Statuses are revocation (set only: it is final) and suspension (set or clear)."
        ) from None
    if before == "revoked" and after != "revoked":
        raise StatusNotSupported("The credential is revoked, for good.")
    place = await repository.status_of(conn, credential_id)
    if place is None:
        raise StatusNotSupported("The credential has no status entry of this issuer.")
    await repository.save_vcapi_status(conn, credential_id, after, at=at)
    await repository.lock_status_list(conn, place.list_number)
    for touched in Purpose:
        await status_lists.sign(conn, issuer, place.list_number, touched, at=at)
    return after


def errors_of(checks: list[Check]) -> list[dict[str, str]]:
    return [{"name": c.name, "message": c.detail} for c in checks if c.ok is not True]


async def verify_presentation(
    verifier: Verifier,
    presentation: Mapping[str, Any],
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime,
) -> tuple[list[Check], list[dict[str, Any]]]:
    """The presentation's own checks (proof, challenge, domain, holder) and each embedded
    credential's verdict."""
    checks: list[Check] = []
    context = presentation.get("@context")
    types = _list(presentation.get("type"))
    if not isinstance(context, list) or not context or context[0] not in (VC_CONTEXT, VC1_CONTEXT):
        checks.append(Check("presentation", False, f"@context must start with {VC_CONTEXT}"))
    if "VerifiablePresentation" not in types:
        checks.append(Check("presentation", False, "type must include VerifiablePresentation"))
    if "proof" in presentation:
        checks.append(_presentation_proof(verifier, presentation, challenge, domain))
    elif challenge is not None and presentation.get("holder") is not None:
        checks.append(
            Check("proof", False, "a challenge was given but the presentation is unsigned")
        )
    credentials = []
    for item in _list(presentation.get("verifiableCredential", [])):
        if not isinstance(item, dict):
            checks.append(Check("credential", False, "verifiableCredential must hold objects"))
            continue
        verdict = await verifier.verify_document(item, now=now)
        credentials.append(verdict.as_json())
        for check in verdict.checks:
            if check.ok is not True:
                checks.append(
                    Check(f"credential {item.get('id', '')} {check.name}", False, check.detail)
                )
    return checks, credentials


def _presentation_proof(
    verifier: Verifier,
    presentation: Mapping[str, Any],
    challenge: str | None,
    domain: str | None,
) -> Check:
    try:
        proofs = data_integrity.verify_or_raise(
            presentation,
            public_key_for=verifier.public_key_for,
            loader=verifier.loader,
            proof_purpose=AUTHENTICATION,
            accept_2020=True,
        )
    except data_integrity.VerificationError as error:
        return Check("proof", False, str(error))
    for proof in proofs:
        if challenge is not None and proof.get("challenge") != challenge:
            return Check("proof", False, "the proof's challenge is not the one given")
        if domain is not None and domain not in _list(proof.get("domain")):
            return Check("proof", False, "the proof's domain is not the one given")
        holder = presentation.get("holder")
        holder_id = holder.get("id") if isinstance(holder, dict) else holder
        controller = str(proof["verificationMethod"]).partition("#")[0]
        if holder_id is not None and holder_id != controller:
            return Check("proof", False, f"the proof is not the holder's ({holder_id})")
    kinds = sorted({str(p.get("cryptosuite") or p.get("type")) for p in proofs})
    return Check("proof", True, f"{', '.join(kinds)} authentication proof valid")
