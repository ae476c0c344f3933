"""decision sequence: versioned decisions per enrolment

Revision ID: assessment_0004
Revises: assessment_0003
Create Date: 2026-12-01 09:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'assessment_0004'
down_revision: Union[str, Sequence[str], None] = 'assessment_0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('result', sa.Column('decision_sequence', sa.Integer(), server_default=sa.text('0'), nullable=False), schema='assessment')


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('result', 'decision_sequence', schema='assessment')
