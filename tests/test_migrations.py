"""Every service's migrations build exactly the schema its tables.py describes."""

import asyncio

import pytest
from alembic import command

from credstack import devstack, migrations


@pytest.mark.parametrize("service", devstack.SERVICES)
async def test_migrations_and_tables_agree(database_url: str, service: str) -> None:
    def upgrade_and_check() -> None:
        config = migrations.config(database_url, service)
        command.upgrade(config, "head")
        command.check(config)  # raises when autogenerate would find a difference

    await asyncio.to_thread(upgrade_and_check)
