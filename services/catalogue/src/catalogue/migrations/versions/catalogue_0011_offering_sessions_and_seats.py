"""offering sessions (when and where each class meets); the seats taken in each offering,
kept from the enrolment service's events

Revision ID: catalogue_0011
Revises: catalogue_0010
Create Date: 2026-11-30 13:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'catalogue_0011'
down_revision: Union[str, Sequence[str], None] = 'catalogue_0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('offering', sa.Column('sessions', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False), schema='catalogue')
    op.create_table('enrolment_seat',
    sa.Column('enrolment_id', sa.UUID(), nullable=False),
    sa.Column('offering_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('enrolment_id', name=op.f('pk_enrolment_seat')),
    schema='catalogue'
    )
    op.create_index('ix_enrolment_seat_offering', 'enrolment_seat', ['offering_id'], unique=False, schema='catalogue')


def downgrade() -> None:
    op.drop_index('ix_enrolment_seat_offering', table_name='enrolment_seat', schema='catalogue')
    op.drop_table('enrolment_seat', schema='catalogue')
    op.drop_column('offering', 'sessions', schema='catalogue')
