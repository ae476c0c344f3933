"""The learner's record as a CLR 2.0 ``ClrCredential``: their signed credentials, nested. No I/O.

The nested credentials keep their own proofs (each verifies on its own); the CLR's proof
signs the whole record. Stacks are associated with their members (``isParentOf``). The
subject lists the achievements of the nested credentials (``achievement``); the record has
the CLR 2.0 JSON Schema, a status entry and a stable id, the URL that serves it afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from issuer.standards.openbadges3 import (
    OB_CONTEXT,
    OB_EXTENSIONS_CONTEXT,
    VC_CONTEXT,
    IssuerProfile,
    StatusEntry,
    hashed_email,
    timestamp,
)

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
CLR_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)


def record_url(base_url: str, record_id: str) -> str:
    return f"{base_url}/records/{record_id}"


def clr_credential(
    *,
    record_id: str,
    issuer: IssuerProfile,
    base_url: str,
    learner_name: str,
    email: str,
    salt: str,
    credentials: Sequence[Mapping[str, Any]],
    status: StatusEntry,
    at: datetime,
) -> dict[str, Any]:
    """An unsigned ClrCredential holding ``credentials`` (signed OB 3.0 credentials)."""
    associations = [
        {
            "type": "Association",
            "associationType": "isParentOf",
            "sourceId": credential["credentialSubject"]["achievement"]["id"],
            "targetId": member["credentialSubject"]["achievement"]["id"],
        }
        for credential in credentials
        for evidence in credential.get("evidence", [])
        for member in credentials
        if member["id"] == evidence.get("id")
    ]
    subject: dict[str, Any] = {
        "type": ["ClrSubject"],
        "identifier": [hashed_email(email, salt)],
        "verifiableCredential": [dict(c) for c in credentials],
        "achievement": list(
            {
                c["credentialSubject"]["achievement"]["id"]: c["credentialSubject"]["achievement"]
                for c in credentials
            }.values()
        ),
    }
    if associations:
        subject["association"] = associations
    return {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT],
        "id": record_url(base_url, record_id),
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Learner record of {learner_name}",
        "description": f"Micro-credentials issued by {issuer.name}.",
        "issuer": issuer.as_json(),
        "validFrom": timestamp(at),
        "credentialSubject": subject,
        "credentialSchema": [{"id": CLR_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": status.as_json(),
    }
