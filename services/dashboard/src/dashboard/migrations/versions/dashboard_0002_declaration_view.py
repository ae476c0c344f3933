"""declaration view: learners who accepted the academic-integrity declaration

Revision ID: dashboard_0002
Revises: dashboard_0001
Create Date: 2026-11-30 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dashboard_0002"
down_revision: str | Sequence[str] | None = "dashboard_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "declaration_view",
        sa.Column("learner_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_declaration_view")),
        schema="dashboard",
    )


def downgrade() -> None:
    op.drop_table("declaration_view", schema="dashboard")
