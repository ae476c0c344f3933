"""endorsements: OB 3.0 EndorsementCredentials of micro-credentials, embedded in credentials

Revision ID: issuer_0009
Revises: issuer_0008
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "issuer_0009"
down_revision: Union[str, Sequence[str], None] = "issuer_0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "endorsement",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("micro_credential_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer()),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("endorser_name", sa.Text(), nullable=False),
        sa.Column("endorser_id", sa.Text(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_by", sa.Text()),
        schema="issuer",
    )
    op.create_index(
        "ix_endorsement_micro_credential",
        "endorsement",
        ["micro_credential_id", "recorded_at"],
        schema="issuer",
    )


def downgrade() -> None:
    op.drop_index("ix_endorsement_micro_credential", "endorsement", schema="issuer")
    op.drop_table("endorsement", schema="issuer")
