"""the audit log of staff actions: append-only (insert and read only for the service's role,
and a trigger refusing update and delete by anyone)

Revision ID: issuer_0007
Revises: issuer_0006
Create Date: 2026-11-30 12:00:00.000000

"""
from typing import Sequence, Union

from credstack.audit_schema import create_audit_log, drop_audit_log

revision: str = 'issuer_0007'
down_revision: Union[str, Sequence[str], None] = 'issuer_0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    create_audit_log('issuer')


def downgrade() -> None:
    drop_audit_log('issuer')
