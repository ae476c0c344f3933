"""language tags up to 35 characters (RFC 5646 §4.4.1), not 16

Revision ID: catalogue_0006
Revises: catalogue_0005
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "catalogue_0006"
down_revision: Union[str, Sequence[str], None] = "catalogue_0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for table in ("micro_credential", "stack"):
        op.alter_column(
            table, "language", type_=sa.String(35), existing_nullable=False, schema="catalogue"
        )


def downgrade() -> None:
    for table in ("micro_credential", "stack"):
        op.alter_column(
            table, "language", type_=sa.String(16), existing_nullable=False, schema="catalogue"
        )
