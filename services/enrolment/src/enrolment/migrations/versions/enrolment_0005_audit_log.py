"""the audit log of staff actions: append-only (insert and read only for the service's role,
and a trigger refusing update and delete by anyone)

Revision ID: enrolment_0005
Revises: enrolment_0004
Create Date: 2026-11-30 12:00:00.000000

"""
from typing import Sequence, Union

from credstack.audit_schema import create_audit_log, drop_audit_log

revision: str = 'enrolment_0005'
down_revision: Union[str, Sequence[str], None] = 'enrolment_0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    create_audit_log('enrolment')


def downgrade() -> None:
    drop_audit_log('enrolment')
