"""language tags of any length (BCP 47 sets no maximum)

Revision ID: catalogue_0007
Revises: catalogue_0006
Create Date: 2026-12-01 10:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'catalogue_0007'
down_revision: Union[str, Sequence[str], None] = 'catalogue_0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for table in ('micro_credential', 'stack'):
        op.alter_column(table, 'language', existing_type=sa.String(length=16), type_=sa.Text(), existing_nullable=False, schema='catalogue')


def downgrade() -> None:
    for table in ('micro_credential', 'stack'):
        op.alter_column(table, 'language', existing_type=sa.Text(), type_=sa.String(length=16), existing_nullable=False, schema='catalogue')
