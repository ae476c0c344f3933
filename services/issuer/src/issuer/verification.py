"""Verifying a presented credential, check by check, as a relying party would.

Input: credential JSON, a VC-JWT, or a baked PNG/SVG (OB 3.0 credential inside; an
OB 2.0 image of ours points to a hosted assertion, whose OB 3.0 credential is checked).
Checks, each reported with its outcome and reason:

- ``signature``: every ``eddsa-rdfc-2022`` Data Integrity proof (and the JWS of a VC-JWT);
- ``issuer``: each proof's verification method is controlled by the credential's issuer
  and listed in its DID document's ``assertionMethod`` (this issuer's did:web, or did:key);
- ``validity``: ``validFrom`` has passed and ``validUntil`` (if any) has not;
- ``status``: the Bitstring Status List entry (signed list verified, bit read) and, for
  this issuer's lists, the revocation and suspension lists at the same index (revoked
  is told apart from suspended);
- ``schema``: the OB 3.0 AchievementCredential JSON Schema (Open Badges), or its
  EndorsementCredential schema (an endorsement, checked on its own with the same checks).

A check that cannot be made offline (another issuer's did:web or status list) is reported
``ok: null`` and the credential is then not ``verified``: nothing is fetched from the network.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import anyio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from dateutil.parser import isoparse
from jsonschema import Draft201909Validator

from credstack.refusals import Reason, Refusal
from issuer.keys import IssuerKeys
from issuer.standards import badge_baking, bitstring_status_list, data_integrity, vc_jwt
from issuer.standards.jsonld import BoundedCache, DocumentLoader
from issuer.standards.multikey import public_key_from_multibase, public_key_multibase

#: Given a status list credential's URL, its signed document if this issuer serves it.
StatusLists = Callable[[str], Awaitable[Mapping[str, Any] | None]]
#: Given an OB 2.0 hosted assertion URL of this issuer, the OB 3.0 credential behind it.
HostedAssertions = Callable[[str], Awaitable[Mapping[str, Any] | None]]


class Unreadable(Refusal):
    """The input is neither credential JSON, a VC-JWT nor a baked image."""

    code = "unreadable-credential"
    reason = Reason.MALFORMED


@dataclass
class Check:
    name: str
    ok: bool | None
    detail: str


@dataclass
class Verdict:
    format: str
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(check.ok is True for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "format": self.format,
            "checks": [asdict(check) for check in self.checks],
            "credential": self.credential,
        }


ACHIEVEMENT_SCHEMA = "ob_v3p0_achievementcredential_schema.json"
ENDORSEMENT_SCHEMA = "ob_v3p0_endorsementcredential_schema.json"


@cache
def _ob3_validator(name: str = ACHIEVEMENT_SCHEMA) -> Draft201909Validator:
    schema = json.loads(files(__package__).joinpath(f"schemas/{name}").read_text(encoding="utf-8"))
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def ob3_schema_errors(credential: Mapping[str, Any], schema: str = ACHIEVEMENT_SCHEMA) -> list[str]:
    """Where ``credential`` breaks the OB 3.0 JSON Schema named (AchievementCredential's
    unless told: EndorsementCredential's)."""
    return [
        f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}"
        for error in _ob3_validator(schema).iter_errors(credential)
    ]


_UNBAKING = anyio.Semaphore(2)


#: Outcomes of signature checks, keyed by the key set and the document's exact JSON: a
#: proof's validity is a pure function of both, so a credential (or status list) checked
#: once is not canonicalized again while it is unchanged. Bounded: least recent out.
_SIGNATURES = BoundedCache(4096)


#: Outcomes of the OB 3.0 schema check, keyed by the document's digest (a pure function).
_SCHEMAS = BoundedCache(4096)


def _digest(document: Mapping[str, Any]) -> str | None:
    """SHA-256 of the document's sorted JSON, or None if it is not plain JSON."""
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=64)
def _public_keys(keys: IssuerKeys) -> str:
    """The issuer's public keys, as the signature cache keys name them (made once)."""
    return ",".join(public_key_multibase(key.public_key()) for key in keys.private_keys)


def _signature_key(
    keys: IssuerKeys,
    digest: str | None,
    resolved: Mapping[str, Ed25519PublicKey] | None = None,
) -> str | None:
    if digest is None:
        return None  # check it, but do not remember it
    public = _public_keys(keys)
    others = ",".join(
        f"{method}={public_key_multibase(key)}" for method, key in sorted((resolved or {}).items())
    )
    return f"{keys.did} {public} {others} {digest}"


class Verifier:
    def __init__(
        self,
        *,
        keys: IssuerKeys,
        loader: DocumentLoader,
        status_lists: StatusLists,
        hosted_assertions: HostedAssertions,
        base_url: str = "",
    ) -> None:
        self.base_url = base_url
        self.keys = keys
        self.loader = loader
        self.status_lists = status_lists
        self.hosted_assertions = hosted_assertions
        #: Keys of other DIDs the caller resolved (an endorser's did:web), by method id.
        self.resolved: Mapping[str, Ed25519PublicKey] = {}

    def with_keys(self, resolved: Mapping[str, Ed25519PublicKey]) -> Verifier:
        """This verifier, also trusting ``resolved`` (method id -> key) for their DIDs."""
        other = Verifier(
            keys=self.keys,
            loader=self.loader,
            status_lists=self.status_lists,
            hosted_assertions=self.hosted_assertions,
            base_url=self.base_url,
        )
        other.resolved = {**self.resolved, **resolved}
        return other

    def public_key_for(self, method: str) -> Ed25519PublicKey:
        """The key of a verification method resolvable offline (ours, or a did:key), or
        one of the keys resolved for this verifier."""
        if method in self.resolved:
            return self.resolved[method]
        controller, _, fragment = method.partition("#")
        if controller == self.keys.did:
            return self.keys.public_key(method)
        if controller.startswith("did:key:") and fragment == controller.removeprefix("did:key:"):
            return public_key_from_multibase(fragment)
        raise LookupError(f"{controller} cannot be resolved offline")

    def jwt_public_key(self, kid: str) -> vc_jwt.PublicKey:
        """The public key of a VC-JWT ``kid``: one of this issuer's published JWKs."""
        key: vc_jwt.PrivateKey = self.keys.jwt_key(self.base_url, kid)
        return key.public_key()

    async def verify(self, data: bytes, media_type: str, *, now: datetime) -> Verdict:
        """Read the input (JSON, JWT or baked image) and run every check."""
        text = data.strip()
        if media_type.startswith(("image/", "application/octet-stream")) or text.startswith(
            (b"\x89PNG", b"<")
        ):
            try:
                async with _UNBAKING:  # CPU-bound: off the event loop, two images at a time
                    unbaked = await anyio.to_thread.run_sync(badge_baking.unbake, data)
            except badge_baking.NotBaked as error:
                raise Unreadable(str(error)) from error
            verdict = await self._verify_text(unbaked.payload, now=now)
            verdict.format = f"baked image (OB {unbaked.version}), {verdict.format}"
            return verdict
        try:
            return await self._verify_text(text.decode("utf-8"), now=now)
        except UnicodeDecodeError as error:
            raise Unreadable("the body is not UTF-8 text") from error

    async def _verify_text(self, text: str, *, now: datetime) -> Verdict:
        text = text.strip()
        if text.startswith("{"):
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                raise Unreadable(f"not valid JSON: {error}") from error
            if not isinstance(document, dict):
                raise Unreadable("the JSON is not an object")
            if document.get("type") == "Assertion":
                return await self._verify_assertion(document, now=now)
            return await self.verify_document(document, now=now, format="JSON")
        if text.count(".") == 2 and " " not in text:
            try:
                credential = vc_jwt.decode(text, self.jwt_public_key)
            except vc_jwt.InvalidJwt as error:
                return Verdict("VC-JWT", [Check("signature", False, str(error))])
            verdict = await self.verify_document(credential, now=now, format="VC-JWT")
            verdict.checks[0].detail = "JWS valid; " + verdict.checks[0].detail
            return verdict
        raise Unreadable("expected credential JSON, a VC-JWT or a baked PNG/SVG image")

    async def _verify_assertion(self, assertion: Mapping[str, Any], *, now: datetime) -> Verdict:
        credential = await self.hosted_assertions(str(assertion.get("id", "")))
        if credential is None:
            return Verdict(
                "OB 2.0 assertion",
                [Check("issuer", None, "an OB 2.0 assertion of another issuer: check it there")],
            )
        return await self.verify_document(dict(credential), now=now, format="OB 2.0 assertion")

    async def verify_document(
        self, document: Mapping[str, Any], *, now: datetime, format: str = "JSON"
    ) -> Verdict:
        verdict = Verdict(format, credential=dict(document))
        digest = _digest(document)
        verdict.checks.append(self._signature(document, digest))
        verdict.checks.append(self._issuer(document))
        verdict.checks.append(_validity(document, now))
        verdict.checks.append(await self._status(document))
        verdict.checks.append(_schema(document, digest))
        return verdict

    def _signature(self, document: Mapping[str, Any], digest: str | None) -> Check:
        key = _signature_key(self.keys, digest, self.resolved)
        if key is not None and (known := _SIGNATURES.get(key)) is not None:
            return Check(**known)
        check = self._check_signature(document)
        if key is not None:
            _SIGNATURES[key] = asdict(check)
        return check

    def _check_signature(self, document: Mapping[str, Any]) -> Check:
        try:
            proofs = data_integrity.verify_or_raise(
                document, public_key_for=self.public_key_for, loader=self.loader
            )
        except data_integrity.VerificationError as error:
            return Check("signature", False, str(error))
        methods = ", ".join(proof["verificationMethod"] for proof in proofs)
        return Check("signature", True, f"eddsa-rdfc-2022 proof valid ({methods})")

    def _issuer(self, document: Mapping[str, Any]) -> Check:
        issuer = document.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        proofs = document.get("proof")
        methods = [
            p.get("verificationMethod", "")
            for p in (proofs if isinstance(proofs, list) else [proofs])
            if isinstance(p, Mapping)
        ]
        if not methods:
            return Check("issuer", False, "no proof names a verification method")
        # a proof set may carry others' proofs (witnesses, endorsers): each verifies (the
        # signature check), and at least one is the issuer's own
        own = [m for m in methods if m.partition("#")[0] == issuer_id]
        if not own:
            return Check(
                "issuer", False, f"{methods[0]} is not controlled by the issuer {issuer_id}"
            )
        for method in own:
            try:
                self.public_key_for(method)
            except LookupError as error:
                return Check("issuer", None, f"cannot resolve {method}: {error}")
        methods = own
        return Check("issuer", True, f"signed by {issuer_id} (assertionMethod {methods[0]})")

    async def _status(self, document: Mapping[str, Any]) -> Check:
        entry = document.get("credentialStatus")
        if entry is None:
            return Check("status", True, "no status entry: the credential cannot be revoked")
        if not isinstance(entry, Mapping) or entry.get("type") != "BitstringStatusListEntry":
            return Check("status", None, "unsupported credentialStatus (Bitstring only)")
        url = str(entry.get("statusListCredential", ""))
        try:
            index = int(str(entry.get("statusListIndex")))
        except ValueError:
            return Check("status", False, "statusListIndex is not an integer")
        purpose = str(entry.get("statusPurpose"))
        if url.endswith(("/revocation", "/suspension")):
            # this issuer's lists: both purposes at the same index, revocation read first
            base = url.rpartition("/")[0]
            for listed, state in (("revocation", "revoked"), ("suspension", "suspended")):
                if listed != purpose and await self.status_lists(f"{base}/{listed}") is None:
                    continue
                bit = await self._bit(f"{base}/{listed}", index, listed, document)
                if isinstance(bit, Check):
                    return bit
                if bit:
                    return Check("status", False, state)
        else:
            bit = await self._bit(url, index, purpose, document)
            if isinstance(bit, Check):
                return bit
            if bit:
                return Check("status", False, "revoked" if purpose == "revocation" else purpose)
        return Check("status", True, f"not revoked ({url}, index {index})")

    async def _bit(
        self, url: str, index: int, purpose: str, document: Mapping[str, Any]
    ) -> bool | Check:
        status_list = await self.status_lists(url)
        if status_list is None:
            return Check("status", None, f"status list {url} is not this issuer's: not fetched")
        signature = self._signature(status_list, _digest(status_list))
        if not signature.ok:
            return Check("status", False, f"status list {url} does not verify: {signature.detail}")
        issuer = document.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        list_issuer = status_list.get("issuer")
        if (
            list_issuer.get("id") if isinstance(list_issuer, Mapping) else list_issuer
        ) != issuer_id:
            return Check("status", False, "the status list has another issuer")
        subject = status_list.get("credentialSubject", {})
        if subject.get("statusPurpose") != purpose:
            return Check("status", False, f"the status list's purpose is not {purpose}")
        try:
            return bitstring_status_list.is_set(str(subject.get("encodedList", "")), index)
        except (ValueError, OSError) as error:
            return Check("status", False, f"status list {url} is malformed: {error}")


def _validity(document: Mapping[str, Any], now: datetime) -> Check:
    # VC 2.0 names the window validFrom/validUntil; VC 1.1 issuanceDate/expirationDate
    start, end = ("validFrom", "validUntil")
    if "validFrom" not in document and "issuanceDate" in document:
        start, end = ("issuanceDate", "expirationDate")
    elif start not in document and end not in document and _is_vc2(document):
        return Check("validity", True, "no validity period (VC 2.0 makes it optional)")
    try:
        valid_from = isoparse(str(document[start]))
        valid_until = isoparse(str(document[end])) if end in document else None
    except (KeyError, ValueError) as error:
        return Check("validity", False, f"{start}/{end} missing or malformed: {error}")
    if valid_from.tzinfo is None or (valid_until is not None and valid_until.tzinfo is None):
        return Check("validity", False, f"{start}/{end} must carry a time zone")
    if now < valid_from:
        return Check("validity", False, f"not valid before {document[start]}")
    if valid_until is not None and now > valid_until:
        return Check("validity", False, f"expired on {document[end]}")
    until = f" until {document[end]}" if valid_until else " with no expiry"
    return Check("validity", True, f"valid from {document[start]}{until}")


def _is_vc2(document: Mapping[str, Any]) -> bool:
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    return bool(first == "https://www.w3.org/ns/credentials/v2")


def _schema(document: Mapping[str, Any], digest: str | None) -> Check:
    if digest is not None and (known := _SCHEMAS.get(digest)) is not None:
        return Check(**known)
    check = _check_schema(document)
    if digest is not None:
        _SCHEMAS[digest] = asdict(check)
    return check


def _check_schema(document: Mapping[str, Any]) -> Check:
    types = document.get("type", [])
    kinds = set(types if isinstance(types, list) else [types])
    if "EndorsementCredential" in kinds:
        schema, name = ENDORSEMENT_SCHEMA, "EndorsementCredential"
    elif {"OpenBadgeCredential", "AchievementCredential"} & kinds:
        schema, name = ACHIEVEMENT_SCHEMA, "AchievementCredential"
    else:
        return Check("schema", True, "not an Open Badge: no OB 3.0 schema applies")
    errors = ob3_schema_errors(document, schema)
    if errors:
        return Check("schema", False, "; ".join(errors[:5]))
    return Check("schema", True, f"conforms to the OB 3.0 {name} JSON Schema")
