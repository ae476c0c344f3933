"""Transaction-scoped advisory locks, to serialise decisions about one aggregate."""

from weakref import WeakKeyDictionary

from sqlalchemy import func, select
from sqlalchemy.engine import Transaction
from sqlalchemy.ext.asyncio import AsyncConnection

#: The locks each open transaction (or savepoint) already holds: taking one again is a
#: no-op that needs no round trip (a consumer batch's handlers take the same lock several
#: times per event). Forgotten with the transaction object.
_held: WeakKeyDictionary[Transaction, set[str]] = WeakKeyDictionary()


async def lock(conn: AsyncConnection, *names: object) -> None:
    """Hold the lock named by `names` until the transaction ends.

    Two transactions that each add one input of a decision (a grade, a confirmation)
    take it before deciding: the second waits for the first to commit and, under READ
    COMMITTED, then sees its row, so a decision is never missed by both.
    """
    key = ":".join(str(n) for n in names)
    sync = conn.sync_connection
    transaction = None if sync is None else sync.get_nested_transaction() or sync.get_transaction()
    held = None if transaction is None else _held.setdefault(transaction, set())
    if held is not None and key in held:
        return
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    if held is not None:
        held.add(key)
