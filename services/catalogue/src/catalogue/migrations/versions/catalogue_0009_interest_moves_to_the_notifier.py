"""interest moves to the notifier: the catalogue's unconfirmed registrations are dropped

The notifier owns interest, with double opt-in; nobody in this table confirmed one, so
their addresses are deleted rather than carried over (they may register again there).

Revision ID: catalogue_0009
Revises: catalogue_0008
Create Date: 2026-11-30 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'catalogue_0009'
down_revision: Union[str, Sequence[str], None] = 'catalogue_0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_table('interest', schema='catalogue')


def downgrade() -> None:
    op.create_table('interest',
    sa.Column('micro_credential_id', sa.UUID(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.Text(), server_default='', nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('micro_credential_id', 'email', name=op.f('pk_interest')),
    schema='catalogue'
    )
