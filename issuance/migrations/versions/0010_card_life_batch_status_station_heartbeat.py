"""card life after issuance, batch status, station heartbeat

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 01:01:14.451136
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('card_deliveries',
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('handed_over_by', sa.String(length=64), nullable=False),
    sa.Column('receipt_number', sa.String(length=40), nullable=False),
    sa.Column('identity_document', sa.String(length=80), nullable=False),
    sa.Column('face_distance', sa.Float(), nullable=True),
    sa.Column('face_matched', sa.Boolean(), nullable=True),
    sa.Column('signature', sa.LargeBinary(), nullable=True),
    sa.Column('signature_key_id', sa.String(length=16), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_card_deliveries_card_id_cards')),
    sa.PrimaryKeyConstraint('card_id', name=op.f('pk_card_deliveries'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('open', 'paused', 'closed', name='batch_status', native_enum=False, create_constraint=True, length=20), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_cert_serial', sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column('collection_office', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handed_over_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status_reason', sa.String(length=200), nullable=True))

    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('card_present', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('current_card_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('current_step', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('self_test_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('self_test_result', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_column('self_test_result')
        batch_op.drop_column('self_test_requested_at')
        batch_op.drop_column('current_step')
        batch_op.drop_column('current_card_id')
        batch_op.drop_column('card_present')
        batch_op.drop_column('seen_at')

    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_column('status_reason')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('activated_at')
        batch_op.drop_column('handed_over_at')
        batch_op.drop_column('dispatched_at')
        batch_op.drop_column('collection_office')
        batch_op.drop_column('holder_cert_serial')

    with op.batch_alter_table('batches', schema=None) as batch_op:
        # The enum's CHECK names the column: without dropping it first SQLite's table copy fails.
        batch_op.drop_constraint(op.f('ck_batches_batch_status'), type_='check')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('status')

    op.drop_table('card_deliveries')
