"""an index on the audit log's time stamps (dashboard, reports and the audit viewer filter by time)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 02:08:27.064487
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE INDEX, never a batch table copy: the append-only triggers live on this table.
    op.create_index(op.f('ix_audit_events_ts'), 'audit_events', ['ts'], unique=False)

def downgrade() -> None:
    op.drop_index(op.f('ix_audit_events_ts'), table_name='audit_events')

