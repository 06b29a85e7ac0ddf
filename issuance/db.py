"""Engines and sessions: one `Database` per process, opened after any fork."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from issuance.audit_checkpoints import AuditAnchor

ANCHOR = "audit_anchor"
PENDING = "audit_pending"
log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the one writer.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


WRITES = {"issuance_writes": True}


def _sqlite_begin(conn: Any) -> None:
    # A writing transaction takes the write lock at BEGIN, so a compare-and-set never upgrades a
    # read lock and deadlocks; a reading one stays deferred, so WAL readers never queue behind it.
    writes = conn.get_execution_options().get("issuance_writes", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _private_sqlite_file(path: Path) -> None:
    # The file holds personal data: create it 0600 before SQLite does (SQLite keeps the mode
    # for its -wal and -shm companions).
    path.parent.mkdir(parents=True, exist_ok=True)
    # Never open an existing file outside SQLite: closing any descriptor of it drops every POSIX
    # lock this process holds on it, SQLite's own included, and another process then believes it
    # is alone, checkpoints and removes the WAL under our open connections (stale reads for good).
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _checkpoint_after_commit(session: Session) -> None:
    pending, anchor = session.info.pop(PENDING, None), session.info.get(ANCHOR)
    if pending is None or anchor is None:
        return
    try:
        anchor.committed(*pending)
    except OSError:
        # The entries are committed either way; the next checkpoint or `audit verify` covers them.
        log.exception("audit checkpoint could not be written")


def _forget_pending(session: Session, _previous: Any = None) -> None:
    session.info.pop(PENDING, None)


def make_engine(url: str) -> Engine:
    """An engine for the URL, with SQLite set up to behave like a serious database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)
    if parsed.database and parsed.database != ":memory:":
        _private_sqlite_file(Path(parsed.database))
    engine = create_engine(url, connect_args={"timeout": 30, "isolation_level": None})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


class Database:
    """Owns an engine and hands out transactional sessions."""

    def __init__(self, url: str, anchor: AuditAnchor | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        # Sessions carry the audit anchor: its keys chain entries, its file receives checkpoints.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={ANCHOR: anchor})
        event.listen(self._sessions, "after_commit", _checkpoint_after_commit)
        event.listen(self._sessions, "after_rollback", _forget_pending)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work that writes: commits on success, rolls back on any error."""
        with self._sessions() as session, session.begin():
            session.connection(execution_options=WRITES)
            yield session

    def session(self) -> Session:
        """A session for reads; to write with it, go through `begin_writing` first."""
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()


def begin_writing(session: Session) -> None:
    """Start the session's next transaction as a writing one (SQLite: BEGIN IMMEDIATE).

    A read transaction already open is ended first: upgrading it to a writer could fail on a
    snapshot another writer has moved past. Loaded objects stay usable (no expiry on commit).
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options=WRITES)
