"""What a database administrator could do to the audit log, and `audit verify` catching each one.

Every scenario switches the database's own guards off first (as a DBA can), then edits, and
expects `issuance audit verify` to exit 1 naming what broke.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from issuance import audit, migrate
from issuance.audit_checkpoints import Checkpoint
from issuance.cli.main import main
from issuance.config import Settings
from issuance.db import Database
from issuance.models import AuditEvent
from issuance.runtime import audit_anchor

GUARDED = ("audit_events", "audit_head")
SQLITE_TRIGGERS = ("audit_events_no_update", "audit_events_no_delete", "audit_head_no_insert",
                   "audit_head_no_rewind", "audit_head_no_delete")


def _append(db: Database, count: int) -> None:
    for i in range(count):
        with db.transaction() as s:
            audit.record(s, audit.Entry(actor="clerk1", action="test.event", entity_id=str(i),
                                        details={"n": i}))


def _sqlite_trigger_sql(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger'"))
        return [r[0] for r in rows]


def _as_dba(db: Database, *statements: str) -> None:
    """Switch every audit guard off, run the statements, switch the guards back on."""
    saved = _sqlite_trigger_sql(db) if db.dialect == "sqlite" else []
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            for table in GUARDED:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for name in SQLITE_TRIGGERS:
                conn.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            conn.execute(text(statement))
        if db.dialect == "postgresql":
            for table in GUARDED:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        for sql in saved:
            conn.execute(text(sql))


def _verify(settings: Settings) -> tuple[int, str]:
    env = {"ISSUANCE_DATABASE_URL": settings.database_url, "ISSUANCE_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    return result.exit_code, result.output


def _verify_fails(settings: Settings) -> str:
    """`audit verify` exits 1; what it said."""
    code, out = _verify(settings)
    assert code == 1, out
    return out


def _events(db: Database) -> list[AuditEvent]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _checkpointed(db: Database, settings: Settings, count: int) -> None:
    """`count` entries, then a verify that signs a checkpoint of the head."""
    _append(db, count)
    code, out = _verify(settings)
    assert code == 0, out


def _plain_rehash(db: Database, tail_from: int = 1) -> list[str]:
    """Recompute every hash from `tail_from` on the only way a DBA can: without the key."""
    statements, prev = [], audit.GENESIS_HASH
    for e in _events(db):
        if e.seq >= tail_from:
            e.prev_hash = prev
            e.hash = hashlib.sha256(prev.encode() + b"\n" + audit.canonical(e)).hexdigest()
            statements.append(f"UPDATE audit_events SET prev_hash = '{e.prev_hash}', hash = '{e.hash}' "
                              f"WHERE seq = {e.seq}")
        prev = e.hash
    last = _events(db)[-1].seq
    statements.append(f"UPDATE audit_head SET seq = {last}, hash = '{prev}'")
    return statements


def test_edited_entry(db: Database, settings: Settings) -> None:
    _append(db, 5)
    _as_dba(db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    out = _verify_fails(settings)
    assert "entry 3 was altered" in out


def test_deleted_middle_entry(db: Database, settings: Settings) -> None:
    _append(db, 5)
    _as_dba(db, "DELETE FROM audit_events WHERE seq = 2")
    out = _verify_fails(settings)
    assert "entry 2 is missing" in out


def test_deleted_tail_with_the_head_rewound(db: Database, settings: Settings) -> None:
    _checkpointed(db, settings, 5)
    fourth = _events(db)[3].hash
    _as_dba(db, "DELETE FROM audit_events WHERE seq = 5",
            f"UPDATE audit_head SET seq = 4, hash = '{fourth}'")
    out = _verify_fails(settings)
    assert "entries after 4 are gone" in out and "names entry 5" in out


def test_deleted_head_row(db: Database, settings: Settings) -> None:
    _append(db, 3)
    _as_dba(db, "DELETE FROM audit_head")
    out = _verify_fails(settings)
    assert "head row is missing" in out


def test_whole_chain_recomputed_with_the_triggers_restored(db: Database, settings: Settings) -> None:
    _checkpointed(db, settings, 4)
    _as_dba(db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2", *_plain_rehash(db))
    out = _verify_fails(settings)
    assert "entry 1 was altered or forged" in out


def test_recomputed_tail_after_the_last_checkpoint_still_fails_the_hmac(
    db: Database, settings: Settings,
) -> None:
    _checkpointed(db, settings, 3)
    _append(db, 2)
    _as_dba(db, "UPDATE audit_events SET details = '{}' WHERE seq = 5", *_plain_rehash(db, tail_from=4))
    out = _verify_fails(settings)
    assert "entry 4 was altered or forged" in out


def test_restored_older_database_copy(db: Database, settings: Settings) -> None:
    _append(db, 3)
    with db.engine.connect() as conn:  # the backup: every audit row as it stood
        events = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_events"))]
        head = dict(conn.execute(text("SELECT * FROM audit_head")).one()._mapping)
    _append(db, 3)
    _verify(settings)  # a checkpoint at entry 6
    restore = [f"INSERT INTO audit_events ({', '.join(e)}) VALUES ({', '.join(_sql(v) for v in e.values())})"
               for e in events]
    _as_dba(db, "DELETE FROM audit_events", "DELETE FROM audit_head", *restore,
            f"INSERT INTO audit_head (id, seq, hash) VALUES ({head['id']}, {head['seq']}, '{head['hash']}')")
    out = _verify_fails(settings)
    assert "entries after 3 are gone" in out and "older copy" in out


def _sql(value: object) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def test_forged_entry_appended_through_the_guards(db: Database, settings: Settings) -> None:
    _append(db, 2)
    last = _events(db)[-1]
    forged = AuditEvent(seq=3, ts=last.ts, actor="mallory", site="", action="user.created",
                        entity_type="user", entity_id="99", from_state="", to_state="", details="{}",
                        prev_hash=last.hash, key_id=last.key_id)
    forged.hash = hashlib.sha256(forged.prev_hash.encode() + b"\n" + audit.canonical(forged)).hexdigest()
    # With the guards on: the row is accepted (append-only allows appends) and the head may advance.
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_events (seq, ts, actor, site, action, entity_type, entity_id, from_state,"
            " to_state, details, prev_hash, hash, key_id) VALUES (3, :ts, 'mallory', '', 'user.created',"
            " 'user', '99', '', '', '{}', :prev, :hash, :kid)"),
            {"ts": last.ts, "prev": forged.prev_hash, "hash": forged.hash, "kid": forged.key_id})
        conn.execute(text("UPDATE audit_head SET seq = 3, hash = :h"), {"h": forged.hash})
    out = _verify_fails(settings)
    assert "entry 3 was altered or forged" in out


def test_altered_checkpoint_line(db: Database, settings: Settings) -> None:
    _checkpointed(db, settings, 2)
    path = settings.effective_checkpoint_file
    line = json.loads(path.read_text().splitlines()[0])
    line["seq"] += 1
    path.write_text(json.dumps(line) + "\n")
    out = _verify_fails(settings)
    assert "line 1" in out and "signature does not verify" in out


def test_head_only_advances_to_the_newest_entry(db: Database) -> None:
    _append(db, 3)
    first = _events(db)[0]
    for statement in ("DELETE FROM audit_head", f"UPDATE audit_head SET seq = 1, hash = '{first.hash}'",
                      "UPDATE audit_head SET seq = 4, hash = 'x'"):
        with pytest.raises(DBAPIError, match="audit_head only advances"), db.transaction() as s:
            s.execute(text(statement))


def test_postgres_refuses_truncate(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    _append(db, 1)
    for table in GUARDED:
        with pytest.raises(DBAPIError, match="cannot be truncated"), db.transaction() as s:
            s.execute(text(f"TRUNCATE {table} CASCADE"))


def _openssl_verify(folder: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
                             "-in", "payload", "-sigfile", "sig"], cwd=folder, capture_output=True, text=True)
    assert ("Signature Verified Successfully" in result.stdout) == (result.returncode == 0)
    return result


def test_checkpoint_signatures_verify_with_openssl(db: Database, settings: Settings, tmp_path: Path) -> None:
    _checkpointed(db, settings, 2)
    line = json.loads(settings.effective_checkpoint_file.read_text().splitlines()[-1])
    point = Checkpoint(line["seq"], line["hash"], line["ts"])
    result = CliRunner().invoke(main, ["audit", "public-key"], env={
        "ISSUANCE_DATABASE_URL": settings.database_url, "ISSUANCE_DATA_DIR": str(settings.data_dir)})
    assert result.exit_code == 0, result.output
    (tmp_path / "pub.pem").write_text(result.output)
    (tmp_path / "payload").write_bytes(point.payload())
    (tmp_path / "sig").write_bytes(base64.b64decode(line["sig"]))
    assert _openssl_verify(tmp_path).returncode == 0
    (tmp_path / "payload").write_bytes(point.payload().replace(b'"seq":2', b'"seq":3'))
    forged = _openssl_verify(tmp_path)
    assert forged.returncode != 0


def test_audited_writes_sign_checkpoints_at_the_configured_interval(
    database_url: str, settings: Settings,
) -> None:
    every_commit = replace(settings, audit_checkpoint_seconds=0)
    db = Database(database_url, audit_anchor(every_commit))
    try:
        _append(db, 3)
        with db.transaction() as s:  # a transaction that writes no entry signs nothing
            s.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError), db.transaction() as s:  # nor does one rolled back
            audit.record(s, audit.Entry(actor="clerk1", action="test.event"))
            raise RuntimeError("rolled back")
    finally:
        db.dispose()
    lines = [json.loads(line) for line in every_commit.effective_checkpoint_file.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]


def test_guards_survive_a_downgrade_and_upgrade_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    migrate.upgrade(url)
    command.downgrade(migrate.alembic_config(url), "0006")
    migrate.upgrade(url)
    names = set(_sqlite_trigger_names(url))
    assert set(SQLITE_TRIGGERS) <= names


def _sqlite_trigger_names(url: str) -> list[str]:
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))]
    finally:
        database.dispose()
