"""W3C Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (VC DI EdDSA 1.0).

Signing (``sign``), for a document ``D`` and proof options ``O`` (no ``proofValue``):

1. ``proofConfig = O + {"@context": D["@context"]}``;
2. ``hashData = SHA-256(RDFC-1.0(proofConfig)) || SHA-256(RDFC-1.0(D without "proof"))``;
3. ``proofValue = "z" + base58btc(Ed25519-sign(hashData))``.

RDFC-1.0 is pyld's URDNA2015 to N-Quads, with contexts from an offline loader. Because
JSON-LD silently drops terms its contexts do not define, both ``sign`` and ``verify``
reject such documents (as jsonld.js safe mode does): otherwise data could be added to
a credential without invalidating its signature.

Speed: each document (and each proof configuration) is expanded once; that expansion
serves both the undefined-term check and the canonicalization (see
:func:`issuer.standards.jsonld.expand_checked`), and the loader keeps the processed
contexts between documents. The canonical N-Quads are byte-identical to
``pyld.normalize`` of the compact document (tests check it on the W3C vectors and on
every kind of credential the issuer signs).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pyld import jsonld as pyld
from pyld.canon import URDNA2015
from pyld.identifier_issuer import IdentifierIssuer
from pyld.jsonld import JsonLdError, _is_absolute_iri

from issuer.standards.jsonld import DocumentLoader, expand_checked, processing_options

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "UndefinedTermsError",
    "VerificationError",
    "canonicalize",
    "sign",
    "verify",
    "verify_or_raise",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
#: The older Linked Data proof Learner Credential Wallet signs with: the same hashing
#: (SHA-256 of the RDFC-1.0 proof options with the document's @context, then of the
#: document) and Ed25519 signature; accepted where the caller asks (DID authentication).
ED25519_2020 = "Ed25519Signature2020"
ASSERTION_METHOD = "assertionMethod"

# XML Schema dateTimeStamp: a dateTime that carries a time zone.
_DATE_TIME_STAMP = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


_PROOF = "proof (under the document's @context)"


class UndefinedTermsError(ValueError):
    """The document uses terms that its ``@context`` does not define; ``terms`` names them."""

    def __init__(self, terms: Sequence[str], *, what: str = "document") -> None:
        self.terms = list(terms)
        super().__init__(
            f"{what} uses terms that its @context does not define (JSON-LD would drop them "
            f"from the signed data): {', '.join(self.terms)}"
        )


class VerificationError(ValueError):
    """A document or one of its ``eddsa-rdfc-2022`` proofs does not verify; says why."""


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document."""
    canonical: str = pyld.normalize(
        dict(document),
        processing_options(loader, algorithm="URDNA2015", format="application/n-quads"),
    )
    return canonical


def _canonical_expanded(expanded: list[Any]) -> str:
    """RDFC-1.0 N-Quads of an already expanded document.

    The steps of ``pyld.normalize`` after its expansion (``to_rdf``: node map, RDF dataset;
    then URDNA2015), called directly because normalize would expand the expanded form
    again (about a third of the canonicalization). They are pyld internals: pyld is pinned,
    and tests compare the result byte for byte with ``pyld.normalize`` of the compact form.
    ``expanded`` is copied first: the node map rewrites blank node ids in place.
    """
    processor = pyld.JsonLdProcessor()
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    processor._create_node_map(copy.deepcopy(expanded), node_map, "@default", issuer)
    options = {"produceGeneralizedRdf": False, "processingMode": "json-ld-1.1"}
    dataset = {
        name: processor._graph_to_rdf(graph, issuer, options)
        for name, graph in sorted(node_map.items())
        if name == "@default" or _is_absolute_iri(name)
    }
    canonical: str = URDNA2015().main(
        dataset, {"algorithm": "URDNA2015", "format": "application/n-quads"}
    )
    return canonical


def _checked(
    document: Mapping[str, Any], loader: DocumentLoader, *, what: str = "document"
) -> list[Any]:
    """The expansion of ``document``; raises UndefinedTermsError if a term is undefined."""
    expanded, undefined = expand_checked(document, loader)
    if undefined:
        raise UndefinedTermsError(undefined, what=what)
    return expanded


def sign(
    document: Mapping[str, Any],
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
    loader: DocumentLoader,
    proof_purpose: str = ASSERTION_METHOD,
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """Return a copy of ``document`` with an ``eddsa-rdfc-2022`` proof appended.

    A presentation is signed with ``proof_purpose="authentication"`` and the verifier's
    ``challenge`` and ``domain``.

    ``proof`` in the result is always a list (OB 3.0's JSON Schema wants an array); proofs
    already present are kept (a proof set: each proof signs the document without ``proof``).
    ``created`` must be timezone-aware; it is written in UTC, to the second, with ``Z``.
    The proof purpose is ``assertionMethod``. The input is not modified.

    Raises ``UndefinedTermsError`` if the document (or the proof, under the document's
    contexts) uses a term its contexts do not define, ``JsonLdError`` if it cannot be
    processed (e.g. a context the loader does not have), ``ValueError`` for a naive
    ``created``.
    """
    unsecured = _unsecured(document)
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _date_time_stamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    expanded = _checked(unsecured, loader)
    proof_config = {"@context": unsecured["@context"], **options}
    expanded_config = _checked(proof_config, loader, what=_PROOF)
    signature = private_key.sign(_hash_data(expanded, expanded_config, loader))
    proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    secured = copy.deepcopy(unsecured)
    secured["proof"] = [*copy.deepcopy(_proofs(document)), proof]
    return secured


def verify(
    document: Mapping[str, Any],
    *,
    public_key_for: Callable[[str], Ed25519PublicKey],
    loader: DocumentLoader,
    proof_purpose: str = ASSERTION_METHOD,
) -> bool:
    """True iff :func:`verify_or_raise` accepts the document; never raises."""
    try:
        verify_or_raise(
            document, public_key_for=public_key_for, loader=loader, proof_purpose=proof_purpose
        )
    except VerificationError:
        return False
    return True


def verify_or_raise(
    document: Mapping[str, Any],
    *,
    public_key_for: Callable[[str], Ed25519PublicKey],
    loader: DocumentLoader,
    proof_purpose: str = ASSERTION_METHOD,
    accept_2020: bool = False,
) -> list[dict[str, Any]]:
    """Verify every ``eddsa-rdfc-2022`` DataIntegrityProof (and, with ``accept_2020``, every
    ``Ed25519Signature2020`` proof); return them, or raise.

    Raises ``VerificationError`` (with the reason) if the document has no such proof, if any
    of them fails (signature, ``proofPurpose`` other than ``proof_purpose``, malformed
    ``created``/``proofValue``, a ``previousProof`` naming no proof of the set),
    if the document uses undefined terms, or if it cannot be processed as JSON-LD.
    Proofs of other types or cryptosuites are ignored: check them separately if needed.

    ``public_key_for(verificationMethod)`` must return the key only if that method may be
    used for the proof (i.e. its controller lists it under ``assertionMethod`` and is the
    credential's issuer); any exception it raises makes the proof fail.
    """
    if not isinstance(document, Mapping) or "@context" not in document:
        raise VerificationError("not a JSON-LD document (no @context)")
    proofs = [
        proof
        for proof in _proofs(document)
        if isinstance(proof, Mapping)
        and (
            (proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") == CRYPTOSUITE)
            or (accept_2020 and proof.get("type") == ED25519_2020)
        )
    ]
    if not proofs:
        raise VerificationError(f"no {PROOF_TYPE} proof with cryptosuite {CRYPTOSUITE}")
    # the 2020 suite signs with its proof options under the document's @context, as DI does
    unsecured = _unsecured(document)
    try:
        try:
            expanded = _checked(unsecured, loader)
        except UndefinedTermsError as error:
            raise VerificationError(str(error)) from None
        for proof in proofs:
            chained = _chained(unsecured, proof, _proofs(document))
            if chained is unsecured:
                _verify_proof(unsecured, expanded, proof, public_key_for, loader, proof_purpose)
                continue
            try:
                chained_expanded = _checked(chained, loader)
            except UndefinedTermsError as error:
                raise VerificationError(str(error)) from None
            _verify_proof(chained, chained_expanded, proof, public_key_for, loader, proof_purpose)
    except JsonLdError as error:
        raise VerificationError(f"JSON-LD processing failed: {error}") from error
    return [dict(proof) for proof in proofs]


def _chained(
    unsecured: dict[str, Any], proof: Mapping[str, Any], all_proofs: list[Any]
) -> dict[str, Any]:
    """What ``proof`` signed: the document, plus (in a proof chain) the proofs its
    ``previousProof`` names, each of which must be in the set (VC DI 1.0 § 4.3)."""
    if "previousProof" not in proof:
        return unsecured
    wanted = _as_list(proof["previousProof"])
    matching = [
        other for other in all_proofs if isinstance(other, Mapping) and other.get("id") in wanted
    ]
    if not wanted or len(matching) != len(wanted):
        raise VerificationError(f"previousProof {wanted} names a proof that is not in the set")
    return {**unsecured, "proof": [dict(other) for other in matching]}


def _verify_proof(
    unsecured: dict[str, Any],
    expanded: list[Any],
    proof: Mapping[str, Any],
    public_key_for: Callable[[str], Ed25519PublicKey],
    loader: DocumentLoader,
    proof_purpose: str,
) -> None:
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if options.get("proofPurpose") != proof_purpose:
        raise VerificationError(
            f"proofPurpose is {options.get('proofPurpose')!r}, expected {proof_purpose!r}"
        )
    method = options.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise VerificationError("verificationMethod must be a URL string")
    created = options.get("created")
    if created is not None and not _is_date_time_stamp(created):
        raise VerificationError(f"created is not an XML dateTimeStamp: {created!r}")
    signature = _decode_proof_value(proof.get("proofValue"))

    # DI 1.0 "verify proof": a proof's own @context must be a prefix of the document's,
    # and then replaces it.
    if "@context" in options:
        proof_context = _as_list(options["@context"])
        if _as_list(unsecured["@context"])[: len(proof_context)] != proof_context:
            raise VerificationError("proof @context does not start the document's @context")
        if proof_context != _as_list(unsecured["@context"]):
            unsecured = {**unsecured, "@context": options["@context"]}
            try:
                expanded = _checked(unsecured, loader)
            except UndefinedTermsError as error:
                raise VerificationError(str(error)) from None
    proof_config = {**options, "@context": unsecured["@context"]}
    try:
        expanded_config = _checked(proof_config, loader, what=_PROOF)
    except UndefinedTermsError as error:
        raise VerificationError(str(error)) from None

    try:
        public_key = public_key_for(method)
    except Exception as error:  # any failure to resolve or authorise the key fails the proof
        raise VerificationError(f"cannot use verification method {method!r}: {error}") from error
    try:
        public_key.verify(signature, _hash_data(expanded, expanded_config, loader))
    except InvalidSignature:
        raise VerificationError(f"invalid signature (verification method {method})") from None


def _hash_data(
    expanded_document: list[Any], expanded_config: list[Any], loader: DocumentLoader
) -> bytes:
    """SHA-256 of each canonical form (proof configuration first), from their expansions."""
    proof_canonical = _canonical_expanded(expanded_config)
    document_canonical = _canonical_expanded(expanded_document)
    proof_hash = hashlib.sha256(proof_canonical.encode("utf-8")).digest()
    document_hash = hashlib.sha256(document_canonical.encode("utf-8")).digest()
    return proof_hash + document_hash


def _unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    if "@context" not in document:
        raise ValueError("document has no @context")
    return {key: value for key, value in document.items() if key != "proof"}


def _proofs(document: Mapping[str, Any]) -> list[Any]:
    return _as_list(document.get("proof"))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _decode_proof_value(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise VerificationError("proofValue must be a multibase base58btc string ('z...')")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        raise VerificationError("proofValue is not valid base58btc") from None
    if len(signature) != 64:
        raise VerificationError(f"proofValue is {len(signature)} bytes, not an Ed25519 signature")
    return signature


def _date_time_stamp(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("created must be a timezone-aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_date_time_stamp(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE_TIME_STAMP.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
