"""credential validUntil (expiry reminders) and wallet claim offers (credential email)

Revision ID: notifier_0002
Revises: notifier_0001
Create Date: 2026-11-30 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'notifier_0002'
down_revision: Union[str, Sequence[str], None] = 'notifier_0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('credential', sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True), schema='notifier')
    op.create_index('ix_credential_valid_until', 'credential', ['valid_until'], unique=False, schema='notifier', postgresql_where=sa.text('valid_until IS NOT NULL'))
    op.create_table('wallet_claim',
    sa.Column('credential_id', sa.UUID(), nullable=False),
    sa.Column('learner_id', sa.UUID(), nullable=False),
    sa.Column('claim_id', sa.UUID(), nullable=False),
    sa.Column('page_url', sa.Text(), nullable=False),
    sa.Column('interaction_url', sa.Text(), nullable=False),
    sa.Column('credential_offer', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('credential_id'),
    schema='notifier'
    )
    op.create_index(op.f('ix_notifier_wallet_claim_learner_id'), 'wallet_claim', ['learner_id'], unique=False, schema='notifier')


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_notifier_wallet_claim_learner_id'), table_name='wallet_claim', schema='notifier')
    op.drop_table('wallet_claim', schema='notifier')
    op.drop_index('ix_credential_valid_until', table_name='credential', schema='notifier', postgresql_where=sa.text('valid_until IS NOT NULL'))
    op.drop_column('credential', 'valid_until', schema='notifier')
