"""erasure: one record per learner who asked for their personal data to be erased

Revision ID: enrolment_0006
Revises: enrolment_0005
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "enrolment_0006"
down_revision: Union[str, Sequence[str], None] = "enrolment_0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "erasure",
        sa.Column("learner_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", postgresql.JSONB(), nullable=False),
        schema="enrolment",
    )


def downgrade() -> None:
    op.drop_table("erasure", schema="enrolment")
