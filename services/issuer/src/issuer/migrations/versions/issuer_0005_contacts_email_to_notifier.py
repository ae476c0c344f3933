"""contacts from enrolment.contacts; learner email moves to the notifier

Revision ID: issuer_0005
Revises: issuer_0004
Create Date: 2026-11-30 08:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'issuer_0005'
down_revision: Union[str, Sequence[str], None] = 'issuer_0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('contact',
    sa.Column('learner_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('learner_id', name=op.f('pk_contact')),
    schema='issuer'
    )
    op.alter_column('recipient', 'name', existing_type=sa.Text(), nullable=True, schema='issuer')
    op.alter_column('recipient', 'email', existing_type=sa.Text(), nullable=True, schema='issuer')
    op.create_index(op.f('ix_issuer_recipient_learner_id'), 'recipient', ['learner_id'], unique=False, schema='issuer')
    op.drop_index('ix_email_pending', table_name='email', schema='issuer', postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_table('email', schema='issuer')


def downgrade() -> None:
    """Downgrade schema."""
    op.create_table('email',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('credential_id', sa.UUID(), nullable=False),
    sa.Column('to_address', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email')),
    schema='issuer'
    )
    op.create_index('ix_email_pending', 'email', ['created_at'], unique=False, schema='issuer', postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_index(op.f('ix_issuer_recipient_learner_id'), table_name='recipient', schema='issuer')
    op.execute("DELETE FROM issuer.recipient WHERE name IS NULL OR email IS NULL")
    op.alter_column('recipient', 'email', existing_type=sa.Text(), nullable=False, schema='issuer')
    op.alter_column('recipient', 'name', existing_type=sa.Text(), nullable=False, schema='issuer')
    op.drop_table('contact', schema='issuer')
