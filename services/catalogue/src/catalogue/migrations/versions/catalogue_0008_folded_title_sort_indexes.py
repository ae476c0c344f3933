"""the folded title stored, with keyset indexes for each public sort

Revision ID: catalogue_0008
Revises: catalogue_0007
Create Date: 2026-12-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'catalogue_0008'
down_revision: Union[str, Sequence[str], None] = 'catalogue_0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PUBLISHED = sa.text("status = 'published'")


def upgrade() -> None:
    op.add_column(
        'micro_credential',
        sa.Column('folded_title', sa.Text(), sa.Computed('catalogue.fold(title)', persisted=True)),
        schema='catalogue',
    )
    op.drop_index('ix_micro_credential_published_folded_title', table_name='micro_credential', schema='catalogue')
    op.create_index('ix_micro_credential_published_folded_title', 'micro_credential', ['folded_title', 'code', 'id'], unique=False, schema='catalogue', postgresql_where=PUBLISHED)
    op.create_index('ix_micro_credential_published_fee', 'micro_credential', ['fee_cents', 'folded_title', 'code', 'id'], unique=False, schema='catalogue', postgresql_where=PUBLISHED)
    op.create_index('ix_micro_credential_published_credit_points', 'micro_credential', ['credit_points', 'folded_title', 'code', 'id'], unique=False, schema='catalogue', postgresql_where=PUBLISHED)


def downgrade() -> None:
    op.drop_index('ix_micro_credential_published_credit_points', table_name='micro_credential', schema='catalogue')
    op.drop_index('ix_micro_credential_published_fee', table_name='micro_credential', schema='catalogue')
    op.drop_index('ix_micro_credential_published_folded_title', table_name='micro_credential', schema='catalogue')
    op.drop_column('micro_credential', 'folded_title', schema='catalogue')
    op.create_index('ix_micro_credential_published_folded_title', 'micro_credential', [sa.literal_column('catalogue.fold(title)')], unique=False, schema='catalogue', postgresql_where=PUBLISHED)
