"""The issuer's Bitstring Status Lists: places for new credentials, re-signing on change."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from issuer import repository
from issuer.domain import Status
from issuer.identity import Issuer
from issuer.standards import bitstring_status_list
from issuer.standards.bitstring_status_list import Purpose
from issuer.standards.openbadges3 import StatusEntry

#: The credential statuses whose bit is set in each list: the suspension list (the one a
#: credential's entry names) also holds revoked credentials, for good.
SET_BY: dict[Purpose, tuple[Status, ...]] = {
    Purpose.REVOCATION: (Status.REVOKED,),
    Purpose.SUSPENSION: (Status.SUSPENDED, Status.REVOKED),
}


async def sign(
    conn: AsyncConnection, issuer: Issuer, number: int, purpose: Purpose, *, at: datetime
) -> None:
    """Sign list ``number`` of ``purpose`` afresh from the credentials' statuses."""
    document = bitstring_status_list.status_list_credential(
        issuer=issuer.profile,
        base_url=issuer.base_url,
        number=number,
        purpose=purpose,
        set_indexes=await repository.indexes_with_status(conn, number, SET_BY[purpose]),
        at=at,
    )
    signed = issuer.signing.sign(document, at=at)
    await repository.save_status_list_credential(conn, number, purpose, signed, now=at)


async def _open(conn: AsyncConnection, issuer: Issuer, number: int, *, at: datetime) -> None:
    if await repository.open_status_list(conn, number, now=at):
        for purpose in Purpose:
            await sign(conn, issuer, number, purpose, at=at)


async def allocate(
    conn: AsyncConnection, issuer: Issuer, credential_id: UUID, *, at: datetime
) -> StatusEntry:
    """A random free index in the newest list (a new list when it is crowded).

    The (list, index) primary key settles races: a draw another transaction holds is
    simply drawn again. Random indexes do not reveal the order of issue.
    """
    number = await repository.newest_status_list(conn)
    if number is None:
        number = 1
        await _open(conn, issuer, number, at=at)
    while True:
        for _ in range(repository.INDEX_ATTEMPTS):
            index = bitstring_status_list.random_index()
            if await repository.claim_status_index(conn, number, index, credential_id):
                url = bitstring_status_list.list_url(issuer.base_url, number, Purpose.SUSPENSION)
                return StatusEntry(url, index)
        number += 1
        await _open(conn, issuer, number, at=at)
