"""The issuer's signing keys and its did:web DID document.

Keys come from configuration in production; the dev stack generates one and keeps it
in the data folder. Every key stays in the DID document's `assertionMethod`, so a
credential signed before a rotation still verifies; the newest key signs.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credstack.settings import MissingSetting
from issuer.settings import Settings
from issuer.standards import data_integrity, did_key
from issuer.standards.jsonld import DocumentLoader, OfflineDocumentLoader
from issuer.standards.multikey import (
    private_key_from_multibase,
    public_key_multibase,
    secret_key_multibase,
)

DEV_KEY_FILE = "issuer-signing-keys.json"
DEV_JWT_KEY_FILE = "issuer-jwt-keys.json"
#: Documents a pool worker signs per hand-over (fewer round trips between processes, and
#: still enough chunks in a consumer batch to keep every worker busy).
SIGNING_CHUNK = 8


@dataclass(frozen=True)
class IssuerKeys:
    did: str
    private_keys: tuple[Ed25519PrivateKey, ...]
    #: RSA keys of the VC-JWT form (RS256), newest last; published as JWKs.
    jwt_keys: tuple[rsa.RSAPrivateKey, ...] = ()

    def method_id(self, index: int) -> str:
        if self.did.startswith(did_key.PREFIX):
            return did_key.method_id(self.private_keys[index].public_key())
        return f"{self.did}#key-{index + 1}"

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return self.private_keys[-1]

    @property
    def signing_method(self) -> str:
        return self.method_id(len(self.private_keys) - 1)

    def public_key(self, method_id: str) -> Ed25519PublicKey:
        for index, key in enumerate(self.private_keys):
            if self.method_id(index) == method_id:
                return key.public_key()
        raise LookupError(f"{method_id} is not one of this issuer's keys")

    def jwt_key_ids(self, base_url: str) -> list[str]:
        """The ``kid`` of each VC-JWT key: a URL that serves it as a JWK (RSA keys, then the
        Ed25519 keys for verifiers that ask for EdDSA)."""
        return [f"{base_url}/keys/rsa-{n + 1}" for n in range(len(self.jwt_keys))] + [
            f"{base_url}/keys/ed25519-{n + 1}" for n in range(len(self.private_keys))
        ]

    def jwt_signer(self, base_url: str, alg: str = "RS256") -> tuple[Any, str]:
        """The newest key for ``alg`` (RS256 or EdDSA) and its ``kid``."""
        if alg == "EdDSA":
            return self.signing_key, f"{base_url}/keys/ed25519-{len(self.private_keys)}"
        if not self.jwt_keys:
            raise LookupError("no RSA key is configured for VC-JWTs")
        return self.jwt_keys[-1], f"{base_url}/keys/rsa-{len(self.jwt_keys)}"

    def jwt_key(self, base_url: str, kid: str) -> Any:
        """The private key whose ``kid`` is ``kid``; LookupError if it is not ours."""
        name = kid.removeprefix(f"{base_url}/keys/")
        kind, _, number = name.partition("-")
        keys: tuple[Any, ...] = {"rsa": self.jwt_keys, "ed25519": self.private_keys}.get(kind, ())
        ours = kid.startswith(f"{base_url}/keys/") and number.isdigit()
        if ours and 0 < int(number) <= len(keys):
            return keys[int(number) - 1]
        raise LookupError(f"{kid} is not one of this issuer's JWT keys")

    def did_document(self) -> dict[str, Any]:
        if self.did.startswith(did_key.PREFIX):
            return did_key.document(self.did)
        methods = [
            {
                "id": self.method_id(index),
                "type": "Multikey",
                "controller": self.did,
                "publicKeyMultibase": public_key_multibase(key.public_key()),
            }
            for index, key in enumerate(self.private_keys)
        ]
        ids = [m["id"] for m in methods]
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "verificationMethod": methods,
            "assertionMethod": ids,
            "authentication": ids,
        }


def load(settings: Settings) -> IssuerKeys:
    """The configured keys; only the dev stack may leave them unset (it generates them).

    Raises MissingSetting elsewhere: two replicas generating keys would sign with
    different keys.
    """
    if settings.signing_keys:
        keys = [private_key_from_multibase(k.get_secret_value()) for k in settings.signing_keys]
    elif not settings.dev_stack:
        raise MissingSetting("ISSUER_SIGNING_KEYS", "the issuer has no key to sign with")
    else:
        keys = _dev_keys(settings.data_dir)
    if settings.jwt_keys:
        jwt_keys = [rsa_key_from_pem(k.get_secret_value()) for k in settings.jwt_keys]
    elif not settings.dev_stack:
        raise MissingSetting("ISSUER_JWT_KEYS", "the issuer has no RSA key for VC-JWTs")
    else:
        jwt_keys = _dev_jwt_keys(settings.data_dir)
    did = did_key.did_key(keys[-1].public_key()) if settings.did_method == "key" else settings.did
    return IssuerKeys(did, tuple(keys), tuple(jwt_keys))


def rsa_key_from_pem(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("a VC-JWT key must be an RSA private key of 2048 bits or more")
    return key


def rsa_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _dev_jwt_keys(data_dir: Path) -> list[rsa.RSAPrivateKey]:
    path = data_dir / DEV_JWT_KEY_FILE
    if path.exists():
        return [rsa_key_from_pem(k) for k in json.loads(path.read_text())]
    data_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_text(json.dumps([rsa_key_pem(key)]))
    path.chmod(0o600)
    return [key]


@dataclass(frozen=True)
class Signing:
    """What signing a document takes: the key set (the newest key signs) and the loader
    of the JSON-LD contexts the signature's canonical form needs.

    ``pool`` (see :func:`signing_pool`) signs in worker processes: :meth:`sign_async` and
    :meth:`sign_many` use it, so several credentials are canonicalized at once, one per core,
    while the service's own process keeps serving requests.
    """

    keys: IssuerKeys
    loader: DocumentLoader
    pool: Executor | None = None

    def sign(self, document: dict[str, Any], *, at: datetime) -> dict[str, Any]:
        """``document`` with an eddsa-rdfc-2022 Data Integrity proof created ``at``."""
        return data_integrity.sign(
            document,
            private_key=self.keys.signing_key,
            verification_method=self.keys.signing_method,
            created=at,
            loader=self.loader,
        )

    async def sign_async(self, document: dict[str, Any], *, at: datetime) -> dict[str, Any]:
        """:meth:`sign` in the pool if there is one (the event loop is not blocked)."""
        if self.pool is None:
            return self.sign(document, at=at)
        loop = asyncio.get_running_loop()
        signed: dict[str, Any] = await loop.run_in_executor(
            self.pool, _sign_in_worker, document, at
        )
        return signed

    def sign_many(
        self, documents: Sequence[dict[str, Any]], *, at: datetime
    ) -> list[dict[str, Any]]:
        """Each document signed, in order; spread over the pool's processes if there is one."""
        if self.pool is None:
            return [self.sign(document, at=at) for document in documents]
        return list(self.pool.map(_sign_in_worker, documents, [at] * len(documents), chunksize=8))

    async def sign_each(
        self, documents: Sequence[tuple[dict[str, Any], datetime]]
    ) -> list[dict[str, Any]]:
        """Each (document, created) signed, in order: in chunks spread over the pool's
        processes at once if there is one, else here, yielding to the event loop between
        documents so that requests are still served during a large batch."""
        if self.pool is None:
            signed = []
            for document, at in documents:
                signed.append(self.sign(document, at=at))
                await asyncio.sleep(0)
            return signed
        loop = asyncio.get_running_loop()
        chunks = [documents[i : i + SIGNING_CHUNK] for i in range(0, len(documents), SIGNING_CHUNK)]
        done = await asyncio.gather(
            *(loop.run_in_executor(self.pool, _sign_chunk_in_worker, chunk) for chunk in chunks)
        )
        return [document for chunk in done for document in chunk]


def signing_pool(keys: IssuerKeys, workers: int) -> ProcessPoolExecutor:
    """``workers`` processes, each holding the keys and its own context cache.

    Spawned, not forked: the service runs threads (the event loop's executor, the broker
    client) that a fork would copy mid-operation. Keys travel once, at start.
    """
    secrets = [secret_key_multibase(key) for key in keys.private_keys]
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(keys.did, secrets),
    )


_worker: Signing | None = None


def _start_worker(did: str, secrets: list[str]) -> None:
    global _worker
    keys = IssuerKeys(did, tuple(private_key_from_multibase(secret) for secret in secrets))
    _worker = Signing(keys, OfflineDocumentLoader())


def _sign_in_worker(document: dict[str, Any], at: datetime) -> dict[str, Any]:
    if _worker is None:
        raise RuntimeError("signing worker not started")
    return _worker.sign(document, at=at)


def _sign_chunk_in_worker(
    documents: Sequence[tuple[dict[str, Any], datetime]],
) -> list[dict[str, Any]]:
    return [_sign_in_worker(document, at) for document, at in documents]


def _dev_keys(data_dir: Path) -> list[Ed25519PrivateKey]:
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        return [private_key_from_multibase(k) for k in json.loads(path.read_text())]
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    path.write_text(json.dumps([secret_key_multibase(key)]))
    path.chmod(0o600)
    return [key]
