import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from credstack.db import create_engine
from credstack.testing import migrate_once
from enrolment.tables import metadata


def _differences(connection: Connection) -> list[Any]:
    def ours(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return type_ != "table" or getattr(obj, "schema", None) == metadata.schema

    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_object": ours,
            "version_table_schema": metadata.schema,
        },
    )
    return list(compare_metadata(context, metadata))


async def test_the_migrations_build_exactly_the_tables_the_code_declares(database_url: str) -> None:
    await asyncio.to_thread(migrate_once, database_url, "enrolment")
    engine = create_engine(database_url, "enrolment")
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()
