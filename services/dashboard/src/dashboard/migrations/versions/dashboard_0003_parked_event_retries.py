"""parked event retries, outbox acknowledged offsets: automatic retries on a growing
schedule; where the broker acknowledged each event, to see it lose its log

Revision ID: dashboard_0003
Revises: dashboard_0002
Create Date: 2026-12-01 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'dashboard_0003'
down_revision: Union[str, Sequence[str], None] = 'dashboard_0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('parked_event', sa.Column('retries', sa.Integer(), server_default='0', nullable=False), schema='dashboard')
    op.add_column('parked_event', sa.Column('next_retry_at', sa.DateTime(timezone=True), nullable=True), schema='dashboard')
    op.add_column('outbox', sa.Column('partition', sa.Integer(), nullable=True), schema='dashboard')
    op.add_column('outbox', sa.Column('offset', sa.BigInteger(), nullable=True), schema='dashboard')


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('outbox', 'offset', schema='dashboard')
    op.drop_column('outbox', 'partition', schema='dashboard')
    op.drop_column('parked_event', 'next_retry_at', schema='dashboard')
    op.drop_column('parked_event', 'retries', schema='dashboard')
