"""SQLite as the embedded database: readers never take the write lock, writers take it at BEGIN."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from sqlalchemy import select, text

from issuance.db import Database, begin_writing
from issuance.models import User


def _db(sqlite_template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "issuance.db"
    shutil.copy(sqlite_template, path)
    return Database(f"sqlite:///{path}")


def test_a_writer_does_not_wait_for_an_open_reader(sqlite_template: Path, tmp_path: Path) -> None:
    db = _db(sqlite_template, tmp_path)
    with db.session() as reader:
        reader.execute(select(User.id)).all()  # a read transaction is now open
        done = threading.Event()

        def write() -> None:
            with db.transaction() as s:
                s.execute(text("INSERT INTO sites (code, name) VALUES ('X', 'written')"))
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        # Were the reader holding the write lock, the writer would wait for its busy timeout (30 s).
        assert done.wait(5), "the writer queued behind a reader"
        writer.join()
    db.dispose()


def test_a_session_that_read_can_then_write(sqlite_template: Path, tmp_path: Path) -> None:
    db = _db(sqlite_template, tmp_path)
    with db.session() as s:
        s.execute(select(User.id)).all()
        with db.transaction() as other:  # another writer moves past the reader's snapshot
            other.execute(text("INSERT INTO sites (code, name) VALUES ('A', '')"))
        begin_writing(s)
        s.execute(text("INSERT INTO sites (code, name) VALUES ('B', '')"))
        s.commit()
    with db.session() as s:
        assert s.execute(text("SELECT code FROM sites ORDER BY code")).scalars().all() == ["A", "B"]
    db.dispose()


WRITE_ELSEWHERE = """
import sys
from sqlalchemy import text
from issuance.db import Database
db = Database(sys.argv[1])
with db.transaction() as s:
    s.execute(text("INSERT INTO sites (code, name) VALUES (:code, 'another process')"), {"code": sys.argv[2]})
db.dispose()
"""


def test_a_second_engine_on_the_file_keeps_the_first_one_seeing_other_processes(
        sqlite_template: Path, tmp_path: Path) -> None:
    """Opening another Database on the same file must not drop this process's SQLite locks.

    Were they dropped, another process would think itself alone and remove the WAL at its close,
    and the first engine would go on reading an old snapshot (or fail with a disk I/O error).
    """
    import subprocess
    import sys

    def elsewhere(code: str) -> None:
        subprocess.run([sys.executable, "-c", WRITE_ELSEWHERE, first.url, code], check=True, timeout=60)

    def write(code: str) -> None:
        with first.transaction() as s:
            s.execute(text("INSERT INTO sites (code, name) VALUES (:code, '')"), {"code": code})

    first = _db(sqlite_template, tmp_path)
    write("A")
    second = Database(first.url)
    with second.session() as s:
        s.execute(text("SELECT 1")).all()
    elsewhere("B")
    write("C")
    elsewhere("D")
    with first.session() as s:
        assert s.execute(text("SELECT code FROM sites ORDER BY code")).scalars().all() == ["A", "B", "C", "D"]
    second.dispose()
    first.dispose()
