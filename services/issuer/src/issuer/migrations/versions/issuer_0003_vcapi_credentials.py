"""VC-API credentials

Revision ID: issuer_0003
Revises: issuer_0002
Create Date: 2026-11-30 08:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'issuer_0003'
down_revision: Union[str, Sequence[str], None] = 'issuer_0002'
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


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('vcapi_credential', schema='issuer')
