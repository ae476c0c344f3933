"""decision sequence: the enrolment read model keeps the newest decision it applied

Revision ID: dashboard_0004
Revises: dashboard_0003
Create Date: 2026-11-30 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dashboard_0004"
down_revision: str | Sequence[str] | None = "dashboard_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "enrolment_view",
        sa.Column("decision_sequence", sa.Integer(), nullable=True),
        schema="dashboard",
    )


def downgrade() -> None:
    op.drop_column("enrolment_view", "decision_sequence", schema="dashboard")
