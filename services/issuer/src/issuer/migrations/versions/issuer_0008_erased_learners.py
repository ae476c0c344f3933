"""erased learners: contact details older than a learner's erasure are not taken again

Revision ID: issuer_0008
Revises: issuer_0007
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "issuer_0008"
down_revision: Union[str, Sequence[str], None] = "issuer_0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "erased_learner",
        sa.Column("learner_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        schema="issuer",
    )


def downgrade() -> None:
    op.drop_table("erased_learner", schema="issuer")
