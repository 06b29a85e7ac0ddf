"""Test database helpers shared by fixtures."""

from __future__ import annotations

from sqlalchemy import text

from issuance.audit import GENESIS_HASH
from issuance.db import Database
from issuance.models import Base

AUDIT_TABLES = ("audit_events", "audit_head")


def reset_postgres(url: str) -> None:
    """Empty every table of the worker's PostgreSQL database and re-anchor the audit chain."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    database = Database(url)
    with database.engine.begin() as conn:
        # The audit tables refuse TRUNCATE (migration 0008): a test reset lifts that guard briefly.
        for table in AUDIT_TABLES:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')"))
        for table in AUDIT_TABLES:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    database.dispose()
