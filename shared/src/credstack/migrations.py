"""Alembic per service: each service's migrations and version table live in its own schema."""

from __future__ import annotations

import asyncio

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from credstack.db import async_url


def config(database_url: str, package: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, package: str) -> None:
    """Bring `package`'s schema to the newest revision (blocking; run it in a thread)."""
    command.upgrade(config(database_url, package), "head")


def run_env(metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    schema = metadata.schema
    assert schema, "a service's metadata names its schema"
    database_url = str(
        context.config.attributes.get("database_url")
        or context.config.get_main_option("sqlalchemy.url")
    )

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return type_ != "table" or getattr(obj, "schema", None) == schema

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        # The default search path: with the service's schema on it, reflection would omit
        # that schema from foreign keys and autogenerate would see differences that are not.
        engine = create_async_engine(async_url(database_url))
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
