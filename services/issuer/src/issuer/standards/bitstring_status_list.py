"""W3C Bitstring Status List v1.0: the lists' bits and their credentials. No I/O.

Each list number has two public lists at stable URLs, one per purpose, with the same
indexes: ``/status-lists/{n}/revocation`` (irreversible) and ``/status-lists/{n}/suspension``
(reversible). OB 3.0's JSON Schema allows a single ``credentialStatus`` object, so a
credential names its suspension entry, whose bit is set while it is suspended and for good
once it is revoked: every verifier sees both. The revocation bit at the same index tells the
final state apart (this issuer's verification page and API read it; credentials issued
before this choice name their revocation entry). Each list carries a ``ttl`` of
``TTL_SECONDS`` and is served with a matching ``Cache-Control: max-age``.

Indexes are drawn at random (not in issue order) from lists of ``LIST_SIZE`` entries;
``encodedList`` is ``"u"`` + base64url (no padding) of the GZIP of the bitstring, index 0
being the most significant bit of the first byte.
"""

from __future__ import annotations

import base64
import gzip
import secrets
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from issuer.standards.openbadges3 import VC_CONTEXT, IssuerProfile, timestamp

#: 131,072 entries (16 KiB), the minimum the specification sets for herd privacy.
LIST_SIZE = 131_072

#: How long a verifier may cache a list: a suspension shows within a minute.
TTL_SECONDS = 60


class Purpose(StrEnum):
    """The two lists of each number: revocation (final) and suspension (reversible)."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


def random_index() -> int:
    return secrets.randbelow(LIST_SIZE)


def list_url(base_url: str, number: int, purpose: str = Purpose.REVOCATION) -> str:
    return f"{base_url}/status-lists/{number}/{purpose}"


def encode(set_indexes: Iterable[int], size: int = LIST_SIZE) -> str:
    """The ``encodedList`` with the bits at ``set_indexes`` set."""
    bits = bytearray(size // 8)
    for index in set_indexes:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside the list (0..{size - 1})")
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


@lru_cache(maxsize=8)
def _bits(encoded_list: str) -> bytes:
    """The decompressed bitstring (each verification reads two bits of the same few lists:
    the last few stay decompressed, 16 KiB each)."""
    if not encoded_list.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u...')")
    payload = encoded_list[1:]
    return gzip.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def is_set(encoded_list: str, index: int) -> bool:
    """The bit at ``index`` of an ``encodedList``; ValueError if it is malformed or too short."""
    bits = _bits(encoded_list)
    if len(bits) * 8 < LIST_SIZE:
        raise ValueError(f"status list has {len(bits) * 8} entries, fewer than {LIST_SIZE}")
    if not 0 <= index < len(bits) * 8:
        raise ValueError(f"status index {index} is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    *,
    issuer: IssuerProfile,
    base_url: str,
    number: int,
    purpose: str,
    set_indexes: Iterable[int],
    at: datetime,
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential (VC 2.0 defines all its terms).

    The issuer is the bare DID (VC 2.0 has no ``Profile`` term): verifiers compare it with
    the ``issuer.id`` of the credentials the list covers.
    """
    url = list_url(base_url, number, purpose)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": timestamp(at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode(set_indexes),
            "ttl": TTL_SECONDS * 1000,
        },
    }
