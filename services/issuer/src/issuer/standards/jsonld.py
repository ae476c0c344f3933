"""Offline JSON-LD processing: a pyld document loader and an undefined-term check.

The issuer never dereferences a JSON-LD context over the network: every context it
accepts ships inside this package (``issuer/contexts/``, keyed by ``contexts/index.json``).
"""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from pyld import jsonld as pyld
from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdError

__all__ = [
    "UNDEFINED_TERM_VOCAB",
    "DocumentLoader",
    "OfflineDocumentLoader",
    "dropped_terms",
    "expand_checked",
    "packaged_context_urls",
    "processing_options",
]

#: pyld's loader signature: ``(url, options) -> RemoteDocument``.
DocumentLoader = Callable[..., dict[str, Any]]

#: ``@vocab`` of the probe context used by :func:`dropped_terms`; an IRI with this prefix in
#: the expansion comes from a term that no context of the document defines.
UNDEFINED_TERM_VOCAB = "urn:credstack:undefined#"

_INDEX = "contexts/index.json"


@cache
def _context_index() -> Mapping[str, str]:
    """Context URL -> path of its file, relative to the ``issuer`` package."""
    index = json.loads(files(__package__).joinpath(_INDEX).read_text(encoding="utf-8"))
    return dict(index)


@cache
def _packaged_context(relative_path: str) -> dict[str, Any]:
    """The parsed context file (parsed once; callers get copies, never this object)."""
    text = files(__package__).joinpath(relative_path).read_text(encoding="utf-8")
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError(f"packaged context {relative_path} is not a JSON object")
    return document


def packaged_context_urls() -> frozenset[str]:
    """The context URLs that ship with the issuer."""
    return frozenset(_context_index())


class OfflineDocumentLoader:
    """A pyld document loader that never touches the network.

    It serves the packaged JSON-LD contexts and the ``extra`` documents (e.g. DID documents,
    status list credentials), each under its exact URL; ``extra`` wins over a packaged
    context with the same URL. Any other URL raises pyld's ``JsonLdError`` with code
    ``loading document failed``. Every call returns a fresh deep copy, so pyld (which
    rewrites relative context URLs in place) cannot corrupt the cache.

    Usage: ``pyld.jsonld.expand(doc, processing_options(OfflineDocumentLoader()))``.

    Contexts are processed once per loader, not once per document: the packaged contexts
    are tagged ``static``, so pyld keeps their resolution (and, through it, each processed
    active context) in this loader's own cache (:attr:`resolved_contexts`, bounded), which
    :func:`processing_options` hands to pyld. A loader of its own, not pyld's global cache:
    ``extra`` may serve another document under a packaged URL.
    """

    def __init__(self, extra: Mapping[str, dict[str, Any]] | None = None) -> None:
        self._extra: dict[str, dict[str, Any]] = {
            url: copy.deepcopy(document) for url, document in (extra or {}).items()
        }
        #: pyld's resolved-context cache for this loader (URL or JCS key -> resolution).
        self.resolved_contexts = BoundedCache(_RESOLVED_CONTEXTS)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        document = self._extra.get(url)
        if document is None:
            relative_path = _context_index().get(url)
            if relative_path is None:
                raise JsonLdError(
                    f"Could not retrieve a JSON-LD document from {url!r}: the issuer only "
                    "loads its packaged contexts and explicitly supplied documents "
                    "(no network access).",
                    "jsonld.LoadDocumentError",
                    {"url": url},
                    code="loading document failed",
                )
            document = _packaged_context(relative_path)
            return {
                "contextUrl": None,
                "documentUrl": url,
                "document": copy.deepcopy(document),
                "tag": "static",
            }
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(document)}


class BoundedCache(OrderedDict[str, Any]):
    """A least-recently-used mapping of at most ``size`` entries: what pyld's context
    resolver needs (``get`` and item assignment). Hand-written (a dozen lines) rather than
    declaring cachetools, which pyld only brings in transitively."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get(self, key: str, default: Any = None) -> Any:
        try:
            self.move_to_end(key)
            return self[key]
        except KeyError:  # absent (or evicted meanwhile)
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


#: Resolved contexts kept per loader: the packaged contexts, their scoped contexts and the
#: inline contexts of documents (keyed by their JCS form), least recently used first out.
_RESOLVED_CONTEXTS = 128


def processing_options(loader: DocumentLoader, **options: Any) -> dict[str, Any]:
    """pyld options that load through ``loader`` and reuse the contexts it has processed."""
    cache = getattr(loader, "resolved_contexts", None)
    if cache is not None:
        options["contextResolver"] = ContextResolver(cache, loader)
    return {"documentLoader": loader, **options}


def expand_checked(
    document: Mapping[str, Any], loader: DocumentLoader
) -> tuple[list[Any], list[str]]:
    """(expansion, undefined terms) from one JSON-LD expansion of ``document``.

    When no term is undefined (the list is empty), the expansion is exactly the plain
    expansion of ``document`` (the probe's ``@vocab`` changed nothing), so it can be
    canonicalized without expanding again. Otherwise the list is as :func:`dropped_terms`
    returns it and the expansion must not be used.
    """
    expanded, undefined_keys, undefined_values = _probe_expansion(document, loader)
    if not undefined_keys and not undefined_values:
        return expanded, []
    return expanded, _locate(document, undefined_keys, undefined_values)


def dropped_terms(document: Mapping[str, Any], loader: DocumentLoader) -> list[str]:
    """Terms of ``document`` that its ``@context`` does not define, in document order.

    JSON-LD expansion (and so canonicalization and signing) silently drops a key that no
    context defines, and turns an undefined type name into a relative IRI that no RDF
    statement can carry: such data would look signed but is not. jsonld.js "safe mode"
    (used by Digital Bazaar's verifiers) rejects the same cases.

    An undefined key is reported as a dotted path (``"credentialSubject.favouriteColour"``);
    an undefined vocabulary value (a ``type`` entry or a ``@type: @vocab`` value) as
    ``"path.key=Value"``. A name that cannot be located in the compact document is reported
    bare. An empty list means every term is defined.

    Raises ``JsonLdError`` if the document cannot be expanded at all (e.g. an unknown
    context URL, or a context that redefines a protected term).
    """
    _, undefined_keys, undefined_values = _probe_expansion(document, loader)
    if not undefined_keys and not undefined_values:
        return []
    return _locate(document, undefined_keys, undefined_values)


def _locate(
    document: Mapping[str, Any], undefined_keys: set[str], undefined_values: set[str]
) -> list[str]:
    found: list[str] = []
    located: set[str] = set()
    for path, key, value in _walk_compact(document, ""):
        if value is None and key in undefined_keys:
            found.append(_join(path, key))
            located.add(key)
        elif value is not None and value in undefined_values:
            found.append(f"{_join(path, key)}={value}")
            located.add(value)
    found.extend(sorted((undefined_keys | undefined_values) - located))
    return list(dict.fromkeys(found))


def _probe_expansion(
    document: Mapping[str, Any], loader: DocumentLoader
) -> tuple[list[Any], set[str], set[str]]:
    """(expansion, undefined keys, undefined vocabulary values), from pyld's expansion.

    The probe context (``@vocab`` = :data:`UNDEFINED_TERM_VOCAB`) is put *before* the
    document's contexts, so a document whose own contexts set ``@vocab`` (e.g. the VC
    examples context) overrides it and is not reported. Keys that pyld still drops (e.g.
    under a scoped ``null`` context that removes the probe) are caught by its
    ``on_property_dropped`` hook.
    """
    contexts = document.get("@context")
    if contexts is None:
        raise ValueError("document has no @context")
    probe = dict(document)
    probe["@context"] = [
        {"@vocab": UNDEFINED_TERM_VOCAB},
        *(contexts if isinstance(contexts, list) else [contexts]),
    ]
    keys: set[str] = set()
    values: set[str] = set()

    def on_dropped(expanded_property: str | None) -> None:
        if expanded_property:
            keys.add(expanded_property.removeprefix(UNDEFINED_TERM_VOCAB))

    expanded: list[Any] = pyld.expand(
        probe, processing_options(loader), on_property_dropped=on_dropped
    )
    for kind, iri in _expanded_iris(expanded):
        if iri.startswith(UNDEFINED_TERM_VOCAB):
            (keys if kind == "key" else values).add(iri[len(UNDEFINED_TERM_VOCAB) :])
    return expanded, keys, values


def _expanded_iris(node: Any) -> Iterator[tuple[str, str]]:
    """("key" | "value", IRI) for every property IRI, @type IRI and @id in an expansion."""
    if isinstance(node, list):
        for item in node:
            yield from _expanded_iris(item)
    elif isinstance(node, dict):
        if "@value" in node:
            if isinstance(node.get("@type"), str):
                yield "value", node["@type"]
            return
        for key, value in node.items():
            if key in ("@type", "@id"):
                for iri in value if isinstance(value, list) else [value]:
                    if isinstance(iri, str):
                        yield "value", iri
            elif not key.startswith("@"):
                yield "key", key
                yield from _expanded_iris(value)
            else:
                yield from _expanded_iris(value)


def _walk_compact(node: Any, path: str) -> Iterator[tuple[str, str, str | None]]:
    """(path, key, None) for every key and (path, key, string) for every string value."""
    if isinstance(node, list):
        for item in node:
            yield from _walk_compact(item, path)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                continue
            yield path, key, None
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    yield path, key, item
                else:
                    yield from _walk_compact(item, _join(path, key))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# Two of pyld's helpers, made cheaper with identical answers. Worth proposing upstream.
#
# pyld tests "is this an absolute IRI?" with `re.match` on a literal pattern for nearly every
# key and value it expands: py-spy of the issuer signing a batch showed about 6% of its
# samples in `re._compile`'s cache lookup under pyld's `_is_absolute_iri`. The same
# pattern, compiled once (identical answers; `tests/unit/test_canonical_form.py` checks the
# N-Quads byte for byte).
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")


def _is_absolute_iri(value: Any) -> re.Match[str] | bool | None:
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value)


# And `_is_numeric` answers by `float(v)`, raising for almost every string it is asked
# about (7% of the issuer's samples, self). A string with a character no float literal can
# hold (anything but whitespace, digits, sign, ".", "_", and the letters of e, inf,
# infinity and nan) is answered False without the exception; the rest as pyld does.
_FLOAT_CHARACTERS = re.compile(r"[\s\d+\-._eEiInNfFaAtTyY]*")


def _is_numeric(value: Any) -> bool:
    if isinstance(value, str) and not _FLOAT_CHARACTERS.fullmatch(value):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


pyld._is_absolute_iri = _is_absolute_iri
pyld._is_numeric = _is_numeric
