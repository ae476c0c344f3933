"""The signing key in use, recorded in the audit log when it changes (a key rotation).

Keys come from configuration, not from an API call, so a rotation is noticed when a
process starts with a newest key other than the one last recorded; the actor is
`configuration` (who deployed it is in the deployment's history).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack import locks
from credstack.audit import CONFIGURATION, AuditEntry, StaffAction
from issuer import tables
from issuer.keys import IssuerKeys
from issuer.standards.multikey import public_key_multibase


async def record_key_in_use(conn: AsyncConnection, keys: IssuerKeys, *, at: datetime) -> bool:
    """Record the newest signing key unless it is the one last recorded; True if recorded."""
    await locks.lock(conn, "issuer-signing-key")
    t = tables.audit.table
    last = (
        await conn.execute(
            select(t.c.details)
            .where(t.c.action == StaffAction.SIGNING_KEY_ROTATE.value)
            .order_by(t.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    public_key = public_key_multibase(keys.signing_key.public_key())
    if last is not None and last.get("public_key") == public_key:
        return False
    entry = AuditEntry(
        actor=CONFIGURATION,
        action=StaffAction.SIGNING_KEY_ROTATE,
        target_type="signing-key",
        target_id=keys.signing_method,
        at=at,
        details={
            "public_key": public_key,
            "previous_public_key": last.get("public_key") if last else None,
            "keys": len(keys.private_keys),
            "jwt_keys": len(keys.jwt_keys),
        },
    )
    await tables.audit.record(conn, entry)
    return True
