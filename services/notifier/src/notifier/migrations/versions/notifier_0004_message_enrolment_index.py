"""an index on a message's enrolment: the credential email looks up its result message

Revision ID: notifier_0004
Revises: notifier_0003
Create Date: 2026-11-30 14:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'notifier_0004'
down_revision: Union[str, Sequence[str], None] = 'notifier_0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_message_enrolment', 'message', [sa.text("(facts->>'enrolment_id')")], unique=False, schema='notifier')


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_message_enrolment', table_name='message', schema='notifier')
