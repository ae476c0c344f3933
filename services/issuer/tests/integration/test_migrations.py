"""The migrations build exactly the schema that tables.py describes."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from credstack.testing import ServiceUnderTest, owner_connection
from issuer import tables


async def test_migrations_and_tables_agree(issuer: ServiceUnderTest) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_object": lambda obj, name, type_, *_: (
                    type_ != "table" or getattr(obj, "schema", None) == "issuer"
                ),
            },
        )
        return list(compare_metadata(context, tables.metadata))

    async with owner_connection(issuer.app.state.settings.database_url, "issuer") as conn:
        found = await conn.run_sync(differences)
    # under the schema search path, reflection names a foreign key's target without its
    # schema: the same key is then reported removed and added; anything else is a drift
    drift = [d for d in found if not (isinstance(d, tuple) and d[0] in ("remove_fk", "add_fk"))]
    keys = {
        (d[0], d[1].name) for d in found if isinstance(d, tuple) and d[0] in ("remove_fk", "add_fk")
    }
    assert drift == []
    assert {name for _, name in keys if ("remove_fk", name) in keys} == {
        name for _, name in keys if ("add_fk", name) in keys
    }
