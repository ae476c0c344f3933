"""Least privilege: each service's role can use its own schema only (credstack.roles)."""

import asyncio

import asyncpg
import pytest

from credstack import devstack, roles
from credstack.db import libpq_url
from credstack.testing import migrate_once


async def connect_as(database_url: str, role: str) -> asyncpg.Connection:
    return await asyncpg.connect(libpq_url(roles.url_for(database_url, role)))


async def test_a_service_role_cannot_read_another_services_schema(database_url: str) -> None:
    for service in ("catalogue", "enrolment"):
        await asyncio.to_thread(migrate_once, database_url, service)
    catalogue = await connect_as(database_url, "credstack_catalogue")
    try:
        own = await catalogue.fetchval("SELECT count(*) FROM catalogue.outbox")
        await catalogue.execute(
            "INSERT INTO catalogue.inbox (event_id, event_type, received_at) "
            "VALUES (gen_random_uuid(), 'Test', now())"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="schema enrolment"):
            await catalogue.fetch("SELECT * FROM enrolment.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await catalogue.execute("CREATE TABLE catalogue.sneaky (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await catalogue.execute("CREATE TABLE public.sneaky (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await catalogue.execute("TRUNCATE catalogue.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await catalogue.execute("DROP TABLE catalogue.outbox")
    finally:
        await catalogue.close()
    assert own == 0

    enrolment = await connect_as(database_url, "credstack_enrolment")
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="schema catalogue"):
            await enrolment.fetch("SELECT * FROM catalogue.inbox")
        assert await enrolment.fetchval("SELECT count(*) FROM enrolment.outbox") == 0
    finally:
        await enrolment.close()


async def test_the_roles_are_not_superusers_and_the_owner_owns_the_tables(
    database_url: str,
) -> None:
    await asyncio.to_thread(migrate_once, database_url, "catalogue")
    admin = await asyncpg.connect(libpq_url(database_url))
    try:
        powers = await admin.fetch(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname LIKE 'credstack\\_%'"
        )
        owners = await admin.fetch(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'catalogue'"
        )
    finally:
        await admin.close()
    names = {row["rolname"] for row in powers}
    assert {"credstack_owner", "credstack_catalogue", "credstack_issuer"} <= names
    assert not any(row["rolsuper"] or row["rolcreaterole"] or row["rolcreatedb"] for row in powers)
    assert [row["tableowner"] for row in owners] == ["credstack_owner"]


async def test_ensure_roles_takes_over_tables_an_admin_migration_created(
    database_url: str,
) -> None:
    admin = await asyncpg.connect(libpq_url(database_url))
    try:
        await admin.execute("CREATE TABLE issuer.legacy (id int)")
    finally:
        await admin.close()
    await roles.ensure_roles(database_url, ["issuer"])
    issuer = await connect_as(database_url, "credstack_issuer")
    try:
        await issuer.execute("INSERT INTO issuer.legacy VALUES (1)")
        assert await issuer.fetchval("SELECT id FROM issuer.legacy") == 1
    finally:
        await issuer.close()
    owner = await connect_as(database_url, roles.OWNER)
    try:
        await owner.execute("DROP TABLE issuer.legacy")
    finally:
        await owner.close()


@pytest.mark.parametrize("service", devstack.SERVICES)
async def test_the_audit_log_is_append_only(database_url: str, service: str) -> None:
    await asyncio.to_thread(migrate_once, database_url, service)
    await roles.ensure_roles(database_url, [service])  # granting again must not undo it
    own = await connect_as(database_url, roles.role_of(service))
    try:
        await own.execute(
            f"INSERT INTO {service}.audit_log (at, actor, action, target_type, target_id) "
            "VALUES (now(), 'staff-1', 'credential.revoke', 'credential', 'c-1')"
        )
        assert await own.fetchval(f"SELECT count(*) FROM {service}.audit_log") >= 1
        for change in (
            f"UPDATE {service}.audit_log SET reason = 'rewritten'",
            f"DELETE FROM {service}.audit_log",
            f"TRUNCATE {service}.audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await own.execute(change)
    finally:
        await own.close()
    owner = await connect_as(database_url, roles.OWNER)
    try:  # even the owner cannot rewrite history (the trigger)
        for change in (
            f"UPDATE {service}.audit_log SET reason = 'rewritten'",
            f"DELETE FROM {service}.audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await owner.execute(change)
    finally:
        await owner.close()
