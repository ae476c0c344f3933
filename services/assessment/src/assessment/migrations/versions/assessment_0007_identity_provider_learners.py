"""How an LMS client names learners (its own ids or the identity provider's subject);
roster links made automatically from that subject

Revision ID: assessment_0007
Revises: assessment_0006
Create Date: 2026-12-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'assessment_0007'
down_revision: Union[str, Sequence[str], None] = 'assessment_0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('lms_client', sa.Column('learner_ids', sa.String(length=24), server_default='lms', nullable=False), schema='assessment')
    op.add_column('roster_link', sa.Column('automatic', sa.Boolean(), server_default=sa.text('false'), nullable=False), schema='assessment')


def downgrade() -> None:
    op.drop_column('roster_link', 'automatic', schema='assessment')
    op.drop_column('lms_client', 'learner_ids', schema='assessment')
