"""Transaction-scoped advisory locks, to serialise decisions about one aggregate."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection


async def lock(conn: AsyncConnection, *names: object) -> None:
    """Hold the lock named by `names` until the transaction ends.

    Two transactions that each add one input of a decision (a grade, a confirmation)
    take it before deciding: the second waits for the first to commit and, under READ
    COMMITTED, then sees its row, so a decision is never missed by both.
    """
    key = ":".join(str(n) for n in names)
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
