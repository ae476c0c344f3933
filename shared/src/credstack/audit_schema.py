"""The audit log's schema step, shared by every service's migration that creates it
(``<service>_NNNN_audit_log``): the table, its indexes, the trigger refusing UPDATE and
DELETE for everyone, and the service role's grant cut to INSERT and SELECT.

Frozen with those migrations: a later change to the audit log is a new migration in each
service, never an edit here (a database already migrated would not see it)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def create_audit_log(schema: str) -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("actor_roles", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target_type", sa.String(), nullable=False),
        sa.Column("target_id", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("trace_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema=schema,
    )
    for name, columns in {
        "ix_audit_log_actor": ["actor", "id"],
        "ix_audit_log_target": ["target_type", "target_id", "id"],
        "ix_audit_log_action": ["action", "id"],
        "ix_audit_log_at": ["at"],
    }.items():
        op.create_index(name, "audit_log", columns, unique=False, schema=schema)
    op.execute(f"""
        CREATE FUNCTION {schema}.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute(f"""
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_log_is_append_only()
    """)
    # The service's role got every table privilege by default (credstack.roles): keep
    # insert and read. The role may not exist yet (created later by credstack.roles or
    # deploy/postgres/roles.sql, which revoke the same).
    role = f"credstack_{schema}"
    op.execute(f"""
        DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_log FROM {role};
            END IF;
        END $$
    """)


def drop_audit_log(schema: str) -> None:
    op.drop_table("audit_log", schema=schema)
    op.execute(f"DROP FUNCTION {schema}.audit_log_is_append_only()")
