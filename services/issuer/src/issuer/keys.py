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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credstack.settings import MissingSetting
from issuer.settings import Settings
from issuer.standards import data_integrity
from issuer.standards.jsonld import DocumentLoader, OfflineDocumentLoader
from issuer.standards.multikey import (
    private_key_from_multibase,
    public_key_multibase,
    secret_key_multibase,
)

DEV_KEY_FILE = "issuer-signing-keys.json"


@dataclass(frozen=True)
class IssuerKeys:
    did: str
    private_keys: tuple[Ed25519PrivateKey, ...]

    def method_id(self, index: int) -> str:
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

    def did_document(self) -> dict[str, Any]:
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
    """The configured keys; only the dev stack may leave them unset (it generates one).

    Raises MissingSetting elsewhere: two replicas generating keys would sign with
    different keys.
    """
    if settings.signing_keys:
        keys = [private_key_from_multibase(k.get_secret_value()) for k in settings.signing_keys]
        return IssuerKeys(settings.did, tuple(keys))
    if not settings.dev_stack:
        raise MissingSetting("ISSUER_SIGNING_KEYS", "the issuer has no key to sign with")
    return IssuerKeys(settings.did, tuple(_dev_keys(settings.data_dir)))


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


def _dev_keys(data_dir: Path) -> list[Ed25519PrivateKey]:
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        return [private_key_from_multibase(k) for k in json.loads(path.read_text())]
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    path.write_text(json.dumps([secret_key_multibase(key)]))
    path.chmod(0o600)
    return [key]
