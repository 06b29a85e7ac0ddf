"""The audit log's secrets filter, and a writer of nothing that locks nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from issuance import audit
from issuance.audit_secrets import AuditSecretError, check_no_secrets
from issuance.db import Database
from issuance.models import AuditEvent

SECRET_NAMES = ["passwd", "pwd", "token", "newPassword", "userPin", "otp", "can", "api-key",
                "session_token", "SESSION-TOKEN", "APIKey", "new_pin", "Private Key", "mac_key"]
HARMLESS = {"username": "clerk1", "key_id": "a1b2c3d4", "token_id": "b2c3", "scan": "front",
            "cancelled": True, "canonical": "x", "national_number": "1234567890", "digest":
            "hmac-sha256:" + "ab" * 32, "reasons": ["NAME_FUZZY", "DECEASED"], "count": 3,
            "note": "نص عربي", "uuid": "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f",
            # Public identifiers that look random by design (PKI ceremonies log them).
            "fingerprint": "ab" * 32, "serial": "0f" * 20, "check_value": "A1B2C3"}
KEY_LOOKING = ["00112233445566778899aabbccddeeff", "q83vEjRWeJq83vEjRWeJqw==", b"\x00\x01",
               "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_field_names_in_any_spelling_are_refused(name: str) -> None:
    with pytest.raises(AuditSecretError, match="looks like a secret"):
        check_no_secrets({"outer": [{"ok": 1}, {name: "1234"}]})


@pytest.mark.parametrize("value", KEY_LOOKING)
def test_key_material_is_refused_under_any_name(value: object) -> None:
    with pytest.raises(AuditSecretError, match="key material"):
        check_no_secrets({"note": {"items": [value]}})


def test_ordinary_details_pass() -> None:
    check_no_secrets(HARMLESS)


def test_refused_entry_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(AuditSecretError), db.transaction() as s:
        audit.record(s, audit.Entry(actor="op", action="x", details={"steps": [{"userPin": "1"}]}))
    with db.session() as s:
        assert s.scalar(select(AuditEvent.seq)) is None


def test_writing_nothing_takes_no_lock(db: Database) -> None:
    """An empty batch must not wait for (or block) the head row other writers hold."""
    if db.dialect != "postgresql":
        with db.transaction() as s:
            assert audit.record_many(s, []) == []
        return
    holder = db.engine.connect()
    holder.begin()
    holder.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
    try:
        with db.transaction() as s:
            s.execute(text("SET LOCAL lock_timeout = '300ms'"))
            assert audit.record_many(s, iter([])) == []
        with pytest.raises(DBAPIError, match="lock timeout"), db.transaction() as s:
            s.execute(text("SET LOCAL lock_timeout = '300ms'"))
            audit.record(s, audit.Entry(actor="op", action="x"))
    finally:
        holder.rollback()
        holder.close()
