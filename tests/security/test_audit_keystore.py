"""The audit chain and checkpoints with both keys inside the keystore (ISSUANCE_AUDIT_KEYS=keystore)."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text

from issuance import audit
from issuance.audit_checkpoints import Checkpoint
from issuance.config import Settings
from issuance.db import Database
from issuance.runtime import audit_anchor


def test_keystore_keys_chain_sign_and_catch_tampering(
    database_url: str, settings: Settings, tmp_path: Path,
) -> None:
    in_keystore = replace(settings, audit_keys="keystore", keystore="software",
                          keystore_passphrase="a test passphrase", audit_checkpoint_seconds=0)
    anchor = audit_anchor(in_keystore)
    db = Database(database_url, anchor)
    try:
        for i in range(3):
            with db.transaction() as s:
                audit.record(s, audit.Entry(actor="clerk1", action="test.event", entity_id=str(i)))
        with db.session() as s:
            assert audit.verify(s).ok
        assert not (in_keystore.effective_key_dir / "audit-chain.key").exists()
        with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
            if db.dialect == "postgresql":
                conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        with db.session() as s:
            verdict = audit.verify(s)
        assert not verdict.ok and verdict.bad_seq == 2
    finally:
        db.dispose()
    line = json.loads(in_keystore.effective_checkpoint_file.read_text().splitlines()[-1])
    (tmp_path / "pub.pem").write_bytes(anchor.keys.public_key_pem())
    (tmp_path / "payload").write_bytes(Checkpoint(line["seq"], line["hash"], line["ts"]).payload())
    (tmp_path / "sig").write_bytes(base64.b64decode(line["sig"]))
    check = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig",
                            "payload"], cwd=tmp_path, capture_output=True, text=True)
    assert "Verified OK" in check.stdout, check.stderr
