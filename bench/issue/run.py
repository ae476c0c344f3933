"""Benchmark: OB 3.0 credentials signed and verified per second, beside raw Ed25519 signing.

Each credential is built as the issuer builds it (domain.open_badge_credential: fresh
salt, status entry) and signed with eddsa-rdfc-2022 (JSON-LD expansion check, two RDFC-1.0
canonicalizations, SHA-256, Ed25519); each verification repeats the canonicalizations
and checks the signature. The raw rate signs the same 64-byte hashData with the same key,
so the ratio shows what JSON-LD canonicalization costs.

The baseline (target: signing within 3x of it) is one pyld canonicalization of the same
credential plus one Ed25519 signature, contexts cached. Then the same signing spread over
a process pool (``--workers``, default one per core), as the issuer does with
ISSUER_SIGNING_WORKERS.

    .venv/bin/python bench/issue/run.py [--seconds 5] [--workers N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld as pyld

from issuer import keys
from issuer.standards import bitstring_status_list, data_integrity
from issuer.standards.jsonld import OfflineDocumentLoader, processing_options
from issuer.standards.openbadges3 import (
    Issuance,
    IssuerProfile,
    Pass,
    Recipient,
    StatusEntry,
    new_salt,
)
from issuer.standards.openbadges3 import open_badge_credential as build

DID = "did:web:credentials.example.edu"
METHOD = f"{DID}#key-1"
BASE = "https://credentials.example.edu"
SNAPSHOT = {
    "micro_credential_id": str(uuid4()),
    "version": 3,
    "code": "MC-DATA-101",
    "title": "Data Storytelling for Leaders",
    "description": "Assessed graduate-level micro-credential in communicating data.",
    "learning_outcomes": [
        {"id": "LO1", "description": "Frame a decision as a data question"},
        {"id": "LO2", "description": "Present evidence to a non-specialist audience"},
    ],
    "alignments": [{"name": "Data literacy", "url": "https://esco.example/s/1", "code": "S1"}],
    "pass_mark": "70",
    "credit_points": "3.125",
    "notional_hours": "65",
    "cpd_hours": "65",
    "field_of_study": "Management and Commerce",
    "language": "en",
    "expiry_months": 36,
}


def rate(work: Callable[[], object], seconds: float) -> tuple[float, int]:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        work()
        done += 1
    return done / elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="pool size")
    arguments = parser.parse_args()
    seconds, workers = arguments.seconds, arguments.workers
    key = Ed25519PrivateKey.generate()
    public_key = key.public_key()
    loader = OfflineDocumentLoader()
    profile = IssuerProfile(did=DID, name="Example University", url="https://example.edu")
    now = datetime.now(UTC)
    signed: list[dict[str, object]] = []

    def credential() -> dict[str, object]:
        issuance = Issuance(
            credential_id=uuid4(),
            issuer=profile,
            recipient=Recipient("Ada Lovelace", "ada@example.org"),
            base_url=BASE,
            issued_at=now,
            salt=new_salt(),
            status=StatusEntry(
                bitstring_status_list.list_url(BASE, 1), bitstring_status_list.random_index()
            ),
        )
        return build(issuance, SNAPSHOT, Pass(Decimal("86.5"), [], now))

    def issue() -> None:
        document = credential()
        signed.append(
            data_integrity.sign(
                document, private_key=key, verification_method=METHOD, created=now, loader=loader
            )
        )

    def verify() -> None:
        document = signed[len(signed) % 7]
        if not data_integrity.verify(document, public_key_for=lambda _: public_key, loader=loader):
            raise SystemExit("a credential signed here did not verify")

    baseline_document = credential()
    options = processing_options(loader, algorithm="URDNA2015", format="application/n-quads")

    def baseline() -> None:
        canonical = pyld.normalize(baseline_document, options)
        key.sign(hashlib.sha256(canonical.encode()).digest() * 2)

    hash_data = os.urandom(64)
    issue()  # warm the context cache
    baseline()
    sign_rate, signs = rate(issue, seconds)
    verify_rate, verifications = rate(verify, seconds)
    base_rate, bases = rate(baseline, seconds)
    raw_rate, raw = rate(lambda: key.sign(hash_data), seconds)
    issuer_keys = keys.IssuerKeys(DID, (key,))
    with keys.signing_pool(issuer_keys, workers) as pool:
        signing = keys.Signing(issuer_keys, loader, pool)
        signing.sign_many([credential() for _ in range(workers * 2)], at=now)  # start workers
        batch = [credential() for _ in range(max(50, int(sign_rate * seconds * workers)))]
        start = time.perf_counter()
        signing.sign_many(batch, at=now)
        pool_rate = len(batch) / (time.perf_counter() - start)
    rows = (
        ("credentials signed (build + eddsa-rdfc-2022)", sign_rate, signs),
        (f"  same, process pool of {workers}", pool_rate, len(batch)),
        ("credentials verified (eddsa-rdfc-2022)", verify_rate, verifications),
        ("baseline: 1 pyld canonicalization + Ed25519", base_rate, bases),
        ("raw Ed25519 signatures (64-byte hashData)", raw_rate, raw),
    )
    for label, value, count in rows:
        print(f"{label:<46} {value:10.1f} /s  ({count})")
    print(f"{'baseline / credential signing (target <= 3)':<46} {base_rate / sign_rate:10.2f} x")
    print(f"{'raw Ed25519 signing / credential signing':<46} {raw_rate / sign_rate:10.1f} x")


if __name__ == "__main__":
    main()
