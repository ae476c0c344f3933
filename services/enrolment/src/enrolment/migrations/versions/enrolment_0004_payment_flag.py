"""payment flag: a payment signal left for staff instead of confirming

Revision ID: enrolment_0004
Revises: enrolment_0003
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "enrolment_0004"
down_revision: Union[str, Sequence[str], None] = "enrolment_0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column(
        "enrolment", sa.Column("payment_flag", sa.Text(), nullable=True), schema="enrolment"
    )


def downgrade() -> None:
    op.drop_column("enrolment", "payment_flag", schema="enrolment")
