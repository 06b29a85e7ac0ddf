"""The audit chain: append-only, hash-chained, safe under concurrent writers, verifiable."""

from __future__ import annotations

import hashlib
import hmac
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from issuance import audit
from issuance.audit_keys import CHAIN_KEY_FILE
from issuance.cli.main import main
from issuance.config import Settings
from issuance.db import Database
from issuance.models import AuditEvent

ENTRY = audit.Entry(actor="clerk1", action="application.viewed", entity_type="application")


def _append(db: Database, count: int, actor: str = "clerk1") -> None:
    for i in range(count):
        with db.transaction() as s:
            audit.record(s, audit.Entry(actor=actor, action="test.event", entity_id=str(i),
                                        details={"n": i, "note": "نص عربي"}))


def _tamper(db: Database, *statements: str) -> None:
    """What a DBA with write access could do: switch the append-only guard off and edit."""
    with db.transaction() as s:
        if db.dialect == "postgresql":
            s.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            s.execute(text("DROP TRIGGER audit_events_no_update"))
            s.execute(text("DROP TRIGGER audit_events_no_delete"))
        for statement in statements:
            s.execute(text(statement))
        if db.dialect == "postgresql":
            s.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def _cli_verify(settings: Settings) -> tuple[int, str]:
    env = {"ISSUANCE_DATABASE_URL": settings.database_url,
           "ISSUANCE_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    return result.exit_code, result.output


def test_chain_links_each_entry_to_the_previous(db: Database, settings: Settings) -> None:
    _append(db, 3)
    with db.session() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    # Keyed: an HMAC under the key file's key, not a plain SHA-256 anyone could recompute.
    key = (settings.effective_key_dir / CHAIN_KEY_FILE).read_bytes()
    for e in events:
        body = e.prev_hash.encode() + b"\n" + audit.canonical(e)
        assert e.hash == hmac.new(key, body, hashlib.sha256).hexdigest()
        assert e.hash != hashlib.sha256(body).hexdigest()


def test_intact_chain_verifies_through_the_cli(db: Database, settings: Settings) -> None:
    _append(db, 5)
    code, out = _cli_verify(settings)
    assert code == 0, out
    assert "intact: 5 entries" in out


def test_verify_catches_an_edited_row(db: Database, settings: Settings) -> None:
    _append(db, 5)
    _tamper(db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    code, out = _cli_verify(settings)
    assert code == 1
    assert "entry 3" in out and "altered" in out


def test_verify_catches_a_deleted_row(db: Database, settings: Settings) -> None:
    _append(db, 5)
    _tamper(db, "DELETE FROM audit_events WHERE seq = 2")
    code, out = _cli_verify(settings)
    assert code == 1
    assert "entry 2 is missing" in out


def test_verify_catches_a_deleted_tail(db: Database, settings: Settings) -> None:
    _append(db, 5)
    _tamper(db, "DELETE FROM audit_events WHERE seq = 5")
    code, out = _cli_verify(settings)
    assert code == 1
    assert "after 4 were deleted" in out


def test_verify_catches_a_swapped_pair(db: Database, settings: Settings) -> None:
    _append(db, 5)
    _tamper(
        db,
        "UPDATE audit_events SET seq = 1000 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = 1000",
    )
    code, out = _cli_verify(settings)
    assert code == 1
    assert "entry 3" in out


def test_database_refuses_update_and_delete(db: Database) -> None:
    _append(db, 2)
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(text(statement))


def test_concurrent_writers_keep_one_unbroken_chain(db: Database) -> None:
    threads = [threading.Thread(target=_append, args=(db, 15, f"w{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as s:
        verdict = audit.verify(s)
        seqs = list(s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert verdict.ok, verdict.reason
    assert seqs == list(range(1, 61))


@pytest.mark.parametrize("field", ["pin", "new_pin", "puk", "password", "private_key", "key"])
def test_secrets_never_enter_the_log(db: Database, field: str) -> None:
    with pytest.raises(audit.AuditSecretError, match=field), db.transaction() as s:
        audit.record(s, audit.Entry(actor="op", action="card.pin_set", details={field: "1234"}))
    with db.session() as s:
        assert s.scalar(select(AuditEvent.seq)) is None
