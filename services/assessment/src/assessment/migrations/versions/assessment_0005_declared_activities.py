"""Declared activities (which LMS activity is summative, which evidence which outcomes),
the activity and role of each grade

Revision ID: assessment_0005
Revises: assessment_0004
Create Date: 2026-12-01 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'assessment_0005'
down_revision: Union[str, Sequence[str], None] = 'assessment_0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('assessed_activity',
    sa.Column('client_id', sa.String(length=128), nullable=False),
    sa.Column('offering_id', sa.UUID(), nullable=False),
    sa.Column('activity', sa.String(), nullable=False),
    sa.Column('summative', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(), nullable=True),
    sa.Column('outcome_ids', postgresql.ARRAY(sa.String()), server_default='{}', nullable=False),
    sa.Column('declared_by', sa.String(), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'offering_id', 'activity', name=op.f('pk_assessed_activity')),
    schema='assessment'
    )
    op.create_index('uq_assessed_activity_summative', 'assessed_activity', ['client_id', 'offering_id'], unique=True, schema='assessment', postgresql_where=sa.text('summative'))
    op.add_column('grade', sa.Column('activity', sa.String(), nullable=True), schema='assessment')
    op.add_column('grade', sa.Column('summative', sa.Boolean(), server_default=sa.text('true'), nullable=False), schema='assessment')


def downgrade() -> None:
    op.drop_column('grade', 'summative', schema='assessment')
    op.drop_column('grade', 'activity', schema='assessment')
    op.drop_index('uq_assessed_activity_summative', table_name='assessed_activity', schema='assessment', postgresql_where=sa.text('summative'))
    op.drop_table('assessed_activity', schema='assessment')
