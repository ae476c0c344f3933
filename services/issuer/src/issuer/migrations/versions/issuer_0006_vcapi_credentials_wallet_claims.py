"""VC-API credentials, wallet claims

Revision ID: issuer_0006
Revises: issuer_0005
Create Date: 2026-11-30 08:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'issuer_0006'
down_revision: Union[str, Sequence[str], None] = 'issuer_0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('vcapi_credential',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vcapi_credential')),
    schema='issuer'
    )
    op.create_table('claim',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('credential_id', sa.UUID(), nullable=False),
    sa.Column('learner_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('challenge', sa.Text(), nullable=True),
    sa.Column('pin_hash', sa.String(length=64), nullable=True),
    sa.Column('access_token_hash', sa.String(length=64), nullable=True),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('protocol', sa.String(length=16), nullable=True),
    sa.Column('holder_did', sa.Text(), nullable=True),
    sa.Column('copy', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_claim_access_token_hash')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_claim_code_hash')),
    schema='issuer'
    )
    op.create_index(op.f('ix_issuer_claim_credential_id'), 'claim', ['credential_id'], unique=False, schema='issuer')


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_issuer_claim_credential_id'), table_name='claim', schema='issuer')
    op.drop_table('claim', schema='issuer')
    op.drop_table('vcapi_credential', schema='issuer')
