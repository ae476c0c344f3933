"""Ed25519 keys in Multikey form (multibase base58btc + multicodec header).

- public key: ``"z" + base58btc(0xed 0x01 || 32-byte key)`` -> ``"z6Mk..."``
  (the ``publicKeyMultibase`` of a ``Multikey`` verification method, and the did:key id);
- secret key: ``"z" + base58btc(0x80 0x26 || 32-byte seed)`` -> ``"z3u2..."``
  (``secretKeyMultibase``; the W3C vc-di-eddsa test vectors store their key this way).
"""

from __future__ import annotations

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "ED25519_PUBLIC_KEY_HEADER",
    "ED25519_SECRET_KEY_HEADER",
    "private_key_from_multibase",
    "public_key_from_multibase",
    "public_key_multibase",
    "secret_key_multibase",
]

#: multicodec ``ed25519-pub`` (0xed) as an unsigned varint.
ED25519_PUBLIC_KEY_HEADER = b"\xed\x01"
#: multicodec ``ed25519-priv`` (0x1300) as an unsigned varint.
ED25519_SECRET_KEY_HEADER = b"\x80\x26"

_BASE58BTC = "z"
_KEY_LENGTH = 32


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    """The ``publicKeyMultibase`` (``z6Mk...``) of an Ed25519 public key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _encode(ED25519_PUBLIC_KEY_HEADER + raw)


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Parse a ``publicKeyMultibase``; ValueError unless it is an Ed25519 Multikey."""
    raw = _decode(value, ED25519_PUBLIC_KEY_HEADER, "Ed25519 public key (z6Mk...)")
    return Ed25519PublicKey.from_public_bytes(raw)


def secret_key_multibase(private_key: Ed25519PrivateKey) -> str:
    """The ``secretKeyMultibase`` of an Ed25519 private key (its 32-byte seed). Secret!"""
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return _encode(ED25519_SECRET_KEY_HEADER + raw)


def private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    """Parse a ``secretKeyMultibase``; ValueError unless it is an Ed25519 secret key."""
    raw = _decode(value, ED25519_SECRET_KEY_HEADER, "Ed25519 secret key (z3u2...)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def _encode(data: bytes) -> str:
    return _BASE58BTC + base58.b58encode(data).decode("ascii")


def _decode(value: str, header: bytes, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith(_BASE58BTC):
        raise ValueError(f"not a multibase base58btc string (must start with 'z'): {what}")
    try:
        data = base58.b58decode(value[1:])
    except ValueError as error:
        raise ValueError(f"invalid base58btc in multibase {what}: {error}") from None
    if not data.startswith(header):
        raise ValueError(
            f"multicodec header {data[:2].hex()} is not {header.hex()}: expected an {what}"
        )
    raw = data[len(header) :]
    if len(raw) != _KEY_LENGTH:
        raise ValueError(f"{what} must be {_KEY_LENGTH} bytes, got {len(raw)}")
    return raw
