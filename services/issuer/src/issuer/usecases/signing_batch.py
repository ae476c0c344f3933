"""A consumer batch's credentials, signed together before the batch commits.

Inside :func:`signed_together` (the consumer's batch scope), issuing a credential records
it with its document as built and defers the signature; when the batch's handlers are
done, every deferred document is signed at once (`Signing.sign_each`: spread over the
signing pool's processes, `ISSUER_SIGNING_WORKERS`) and the rows take their signed
documents in one statement, still inside the batch's transaction. So nothing outside that
transaction ever reads an unsigned credential: the batch commits with every credential
signed, or (signing failed) rolls back and is applied one event at a time, each credential
signed as it is issued (no scope: :func:`defer` answers False).

What the batch's later handlers read of a credential issued earlier in the same batch (its
id, URL, subject, status, validity) is in the document as built; only the proof is added.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from issuer import repository
from issuer.keys import Signing


@dataclass(frozen=True)
class _Deferred:
    credential_id: UUID
    document: dict[str, Any]
    at: datetime


_deferred: ContextVar[list[_Deferred] | None] = ContextVar("issuer_deferred", default=None)


def defer(credential_id: UUID, document: dict[str, Any], *, at: datetime) -> bool:
    """Sign ``document`` (credential ``credential_id``'s) with the batch, if one is being
    applied; False when it must be signed now."""
    pending = _deferred.get()
    if pending is None:
        return False
    pending.append(_Deferred(credential_id, document, at))
    return True


@asynccontextmanager
async def signed_together(signing: Signing, conn: AsyncConnection) -> AsyncIterator[None]:
    """Defer the signatures of the credentials issued inside; sign and store them all on
    the way out (not when the block raised: the transaction rolls back anyway)."""
    pending: list[_Deferred] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    if pending:
        signed = await signing.sign_each([(d.document, d.at) for d in pending])
        await repository.save_documents(
            conn, [(d.credential_id, document) for d, document in zip(pending, signed, strict=True)]
        )
