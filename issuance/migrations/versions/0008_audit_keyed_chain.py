"""audit chain keyed by HMAC; the head only advances; no TRUNCATE of the audit tables;
vault key ids and keyed image digests (the plain SHA-256 of each image is dropped);
sign-in throttles and server-side sessions; a photo override names the photo it accepts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 22:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

HEAD_MESSAGE = "audit_head only advances to the newest audit entry"
TRUNCATE_MESSAGE = "the audit log cannot be truncated"
# The head may name only the newest existing entry, and only move forward.
HEAD_OK = (
    "NEW.id = 1 AND ((NEW.seq = 0 AND NOT EXISTS (SELECT 1 FROM audit_events)) OR "
    "(NEW.seq = (SELECT max(seq) FROM audit_events) AND "
    "EXISTS (SELECT 1 FROM audit_events e WHERE e.seq = NEW.seq AND e.hash = NEW.hash)))"
)


def upgrade() -> None:
    op.create_table('sign_in_throttles',
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'subject', name=op.f('pk_sign_in_throttles'))
    )
    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('renew_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), server_default='', nullable=False))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_override_image_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('photo_override_digest', sa.String(length=80), nullable=True))
    # An override from before names no photo, so it accepts none (the supervisor decides again).
    op.execute("UPDATE applications SET photo_override_by = NULL")
    with op.batch_alter_table('biometric_images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('digest', sa.String(length=80), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_biometric_images_key_id'), ['key_id'], unique=False)
        batch_op.drop_column('sha256')
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guards()
    else:
        _sqlite_guards()


def _postgres_guards() -> None:
    op.execute(
        "CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' THEN RAISE EXCEPTION '{HEAD_MESSAGE}'; END IF; "
        f"IF TG_OP = 'UPDATE' AND NEW.seq <= OLD.seq THEN RAISE EXCEPTION '{HEAD_MESSAGE}'; END IF; "
        f"IF NOT ({HEAD_OK}) THEN RAISE EXCEPTION '{HEAD_MESSAGE}'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_guard()"
    )
    op.execute(
        "CREATE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{TRUNCATE_MESSAGE}'; END $$"
    )
    for table in ("audit_events", "audit_head"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()"
        )


def _sqlite_guards() -> None:
    op.execute(
        "CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head "
        f"WHEN NOT ({HEAD_OK}) BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_head "
        f"WHEN NEW.seq <= OLD.seq OR NOT ({HEAD_OK}) BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_events", "audit_head"):
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION audit_no_truncate()")
        op.execute("DROP TRIGGER audit_head_guard ON audit_head")
        op.execute("DROP FUNCTION audit_head_guard()")
    else:
        for name in ("no_insert", "no_rewind", "no_delete"):
            op.execute(f"DROP TRIGGER audit_head_{name}")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
    if op.get_bind().dialect.name == "sqlite":
        # Dropping a column makes SQLite copy the table, and the copy lost 0001's guards.
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
    with op.batch_alter_table('biometric_images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), server_default='', nullable=False))
        batch_op.drop_index(batch_op.f('ix_biometric_images_key_id'))
        batch_op.drop_column('digest')
        batch_op.drop_column('key_id')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('photo_override_digest')
        batch_op.drop_column('photo_override_image_id')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
    op.drop_table('sign_in_throttles')
