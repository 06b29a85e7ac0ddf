"""Signed checkpoints of the audit chain, appended to a file outside the database.

A checkpoint says "entry SEQ had hash H at time T", signed with the audit signing key. Whoever can
rewrite the database cannot rewrite these lines, so `audit verify` catches a deleted tail, a
recomputed chain or a restored older copy by comparing the chain with every checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from issuance.audit_keys import AuditKeys
from issuance.keyfiles import PRIVATE_FILE, private_dir


class CheckpointError(ValueError):
    """The checkpoint file holds a line that is malformed or not signed by our key."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: str

    def payload(self) -> bytes:
        """The bytes the signature covers."""
        return json.dumps({"seq": self.seq, "hash": self.hash, "ts": self.ts},
                          sort_keys=True, separators=(",", ":")).encode()


class CheckpointLog:
    """An append-only JSON-lines file of signed checkpoints."""

    def __init__(self, path: Path, keys: AuditKeys) -> None:
        self.path = path
        self._keys = keys

    def append(self, seq: int, head_hash: str, now: dt.datetime | None = None) -> Checkpoint:
        """Sign and append one checkpoint; one write per line, under an exclusive lock."""
        ts = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        point = Checkpoint(seq, head_hash, ts)
        signature = base64.b64encode(self._keys.sign(point.payload())).decode()
        line = json.dumps({"seq": seq, "hash": head_hash, "ts": ts, "sig": signature},
                          sort_keys=True) + "\n"
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return point

    def read(self) -> list[Checkpoint]:
        """Every checkpoint, each signature checked; an unsigned or altered line is an error."""
        if not self.path.exists():
            return []
        points = []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            points.append(self._parse(number, line))
        return points

    def _parse(self, number: int, line: str) -> Checkpoint:
        where = f"checkpoint file {self.path.name}, line {number}"
        try:
            raw = json.loads(line)
            point = Checkpoint(int(raw["seq"]), str(raw["hash"]), str(raw["ts"]))
            signature = base64.b64decode(raw["sig"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise CheckpointError(f"{where}: malformed") from exc
        if not self._keys.verify(point.payload(), signature):
            raise CheckpointError(f"{where}: signature does not verify (the line was altered)")
        return point


class AuditAnchor:
    """Ties a database to its audit keys and checkpoint file; checkpoints at most every N seconds."""

    def __init__(self, keys: AuditKeys, log: CheckpointLog, every_seconds: float) -> None:
        self.keys = keys
        self.log = log
        self.every_seconds = every_seconds
        self._last = float("-inf")

    def committed(self, seq: int, head_hash: str) -> None:
        """Called after a transaction that wrote entries commits: checkpoint if one is due."""
        now = time.monotonic()
        if now - self._last >= self.every_seconds:
            self.log.append(seq, head_hash)
            self._last = now
