"""Least privilege in PostgreSQL: one login role per service, a separate owner for migrations.

- `credstack_owner` owns every service schema and its tables; only migrations use it.
- `credstack_<service>` may use its own schema only: `USAGE` on it, `SELECT, INSERT,
  UPDATE, DELETE` on its tables and `USAGE, SELECT` on its sequences (granted by default
  privileges, so tables a later migration adds are covered). No privilege on another
  service's schema, no `CREATE` anywhere, no `TRUNCATE`.
- Append-only tables (`APPEND_ONLY`: the audit log) keep `SELECT, INSERT` only: the
  migration that creates one revokes the rest, and `ensure_roles` revokes it again after
  granting on all tables.

`DATABASE_URL` stays the admin URL. The dev stack and the test fixtures call
`ensure_roles` with it and derive each role's URL (`url_for`): same server and database,
the role as user, the admin URL's password (dev and tests only; production names each
service's URL, with its own password, in `<SERVICE>_DATABASE_URL` and the owner's in
`<SERVICE>_MIGRATION_DATABASE_URL`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import make_url

OWNER = "credstack_owner"
APPEND_ONLY = ("audit_log",)
"""Tables a service may add rows to and read, never change or delete from."""


def role_of(service: str) -> str:
    return f"credstack_{service}"


def url_for(admin_url: str, role: str) -> str:
    """The admin URL with `role` as its user (same server, database and password)."""
    return make_url(admin_url).set(username=role).render_as_string(hide_password=False)


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def ensure_roles(admin_url: str, services: Iterable[str]) -> None:
    """Create (or bring up to date) the owner and service roles, each service's schema
    owned by the owner, and the grants; idempotent. `admin_url` must be allowed to create
    roles (a superuser, as in the dev stack and the tests)."""
    import asyncpg

    from credstack.db import libpq_url

    password = make_url(admin_url).password
    login = f"LOGIN PASSWORD {_literal(password)}" if password else "LOGIN"
    attributes = f"{login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
    connection = await asyncpg.connect(libpq_url(admin_url))
    try:
        database = await connection.fetchval("SELECT current_database()")
        async with connection.transaction():
            # One at a time: concurrent CREATE ROLE of the same name fails on a race.
            await connection.execute("SELECT pg_advisory_xact_lock(7366012)")
            for role in (OWNER, *(role_of(s) for s in services)):
                exists = await connection.fetchval(
                    "SELECT 1 FROM pg_roles WHERE rolname = $1", role
                )
                verb = "ALTER" if exists else "CREATE"
                await connection.execute(f"{verb} ROLE {_ident(role)} WITH {attributes}")
            await connection.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            await connection.execute(
                f"GRANT CONNECT, CREATE ON DATABASE {_ident(database)} TO {_ident(OWNER)}"
            )
            for service in services:
                await _grant(connection, service)
    finally:
        await connection.close()


async def _grant(connection: object, service: str) -> None:
    import asyncpg

    assert isinstance(connection, asyncpg.Connection)
    schema, role, owner = _ident(service), _ident(role_of(service)), _ident(OWNER)
    await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner}")
    await connection.execute(f"ALTER SCHEMA {schema} OWNER TO {owner}")
    # Tables an earlier admin-run migration created pass to the owner, so the next
    # migration (run as the owner) may alter them.
    owned = await connection.fetch(
        """SELECT c.relname, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')
             AND pg_get_userbyid(c.relowner) <> $2""",
        service,
        OWNER,
    )
    for row in owned:
        await connection.execute(f"ALTER TABLE {schema}.{_ident(row['relname'])} OWNER TO {owner}")
    await connection.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    await connection.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    tables = "SELECT, INSERT, UPDATE, DELETE"
    await connection.execute(f"GRANT {tables} ON ALL TABLES IN SCHEMA {schema} TO {role}")
    await connection.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    for table in APPEND_ONLY:
        if await connection.fetchval("SELECT to_regclass($1)", f"{service}.{table}"):
            await connection.execute(
                f"REVOKE UPDATE, DELETE ON {schema}.{_ident(table)} FROM {role}"
            )
    await connection.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT {tables} ON TABLES TO {role}"
    )
    await connection.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role}"
    )
