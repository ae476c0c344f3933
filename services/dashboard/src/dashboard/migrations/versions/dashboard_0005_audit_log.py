"""the audit log of staff actions: append-only (insert and read only for the service's role,
and a trigger refusing update and delete by anyone)

Revision ID: dashboard_0005
Revises: dashboard_0004
Create Date: 2026-11-30 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'dashboard_0005'
down_revision: Union[str, Sequence[str], None] = 'dashboard_0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLE = 'credstack_dashboard'


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('actor_roles', sa.String(), nullable=True),
        sa.Column('action', sa.String(), nullable=False),
        sa.Column('target_type', sa.String(), nullable=False),
        sa.Column('target_id', sa.String(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column('trace_id', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
        schema='dashboard',
    )
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor', 'id'], unique=False, schema='dashboard')
    op.create_index('ix_audit_log_target', 'audit_log', ['target_type', 'target_id', 'id'], unique=False, schema='dashboard')
    op.create_index('ix_audit_log_action', 'audit_log', ['action', 'id'], unique=False, schema='dashboard')
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False, schema='dashboard')
    op.execute("""
        CREATE FUNCTION dashboard.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("""
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON dashboard.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard.audit_log_is_append_only()
    """)
    # The service's role got every table privilege by default (credstack.roles): keep
    # insert and read. The role may not exist yet (created later by credstack.roles or
    # deploy/postgres/roles.sql, which revoke the same).
    op.execute(f"""
        DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
                REVOKE UPDATE, DELETE, TRUNCATE ON dashboard.audit_log FROM {ROLE};
            END IF;
        END $$
    """)


def downgrade() -> None:
    op.drop_table('audit_log', schema='dashboard')
    op.execute("DROP FUNCTION dashboard.audit_log_is_append_only()")
