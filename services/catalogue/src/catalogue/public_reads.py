"""The public detail page's read of an item: one statement, built once.

The item's public version, its prerequisites' codes (in the order given) and its
published stacks' codes come back in one row: correlated subqueries instead of three
statements, so the page needs no transaction to agree with itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from catalogue.domain import MicroCredential, Status
from catalogue.repository import micro_credential_from_row
from catalogue.search_statement import published_stacks
from catalogue.tables import micro_credential, stack, stack_member

t = micro_credential
PUBLIC = [Status.PUBLISHED.value, Status.DISESTABLISHED.value, Status.SUPERSEDED.value]

# Each prerequisite id (a JSON array of ids) with the code of its item, in the array's
# order; an id with no item is left out (as `repository.codes_of` does).
_PREREQUISITE_CODES: ColumnElement[Any] = literal_column(
    "(SELECT array_agg(named.code ORDER BY wanted.ord)"
    " FROM jsonb_array_elements_text(catalogue.micro_credential.prerequisites)"
    " WITH ORDINALITY AS wanted(id, ord)"
    " JOIN LATERAL (SELECT other.code FROM catalogue.micro_credential AS other"
    " WHERE other.id = wanted.id::uuid LIMIT 1) AS named ON true)"
)

_STACKS = (
    select(func.array_agg(aggregate_order_by(stack.c.code, stack.c.code)))
    .select_from(published_stacks())
    .where(stack_member.c.micro_credential_id == t.c.id)
    .scalar_subquery()
)

_BY_CODE = (
    select(t, _PREREQUISITE_CODES.label("prerequisite_codes"), _STACKS.label("stack_codes"))
    .where(func.upper(t.c.code) == bindparam("code", type_=String), t.c.status.in_(PUBLIC))
    .order_by(func.array_position(PUBLIC, t.c.status), t.c.version.desc())
    .limit(1)
)
"""The public version of the item with this code: the published one, else the last one."""


@dataclass(frozen=True)
class PublicItem:
    item: MicroCredential
    prerequisite_codes: list[str]
    stacks: list[str]


async def public_item(conn: AsyncConnection, code: str) -> PublicItem | None:
    """The public version of the item with this code, with its prerequisites' and stacks'
    codes; None when no version of it is public."""
    row = (await conn.execute(_BY_CODE, {"code": code.upper()})).first()
    if row is None:
        return None
    return PublicItem(
        micro_credential_from_row(row),
        list(row.prerequisite_codes or []),
        list(row.stack_codes or []),
    )
