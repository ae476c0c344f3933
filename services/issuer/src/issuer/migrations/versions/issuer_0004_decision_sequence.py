"""decision sequence: versioned decisions per enrolment

Revision ID: issuer_0004
Revises: issuer_0003
Create Date: 2026-12-01 09:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'issuer_0004'
down_revision: Union[str, Sequence[str], None] = 'issuer_0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('decision',
    sa.Column('enrolment_id', sa.UUID(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('enrolment_id', name=op.f('pk_decision')),
    schema='issuer'
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('decision', schema='issuer')
