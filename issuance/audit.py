"""Append-only, hash-chained audit log: who did what, when and where."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64
HEAD_ID = 1
# Secrets never enter the log, whatever a caller passes in `details`.
_SECRET_KEY = re.compile(r"(^|_)(pin|puk|password|passphrase|secret|private|key|mac_key)($|_)", re.I)


class AuditSecretError(ValueError):
    """A caller tried to write a secret-looking field into the audit log."""


@dataclass(frozen=True)
class Entry:
    """What one audit entry says, before it is chained."""

    actor: str
    action: str
    entity_type: str = ""
    entity_id: str = ""
    from_state: str = ""
    to_state: str = ""
    site: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _timestamp(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_no_secrets(details: dict[str, Any]) -> None:
    for key, value in details.items():
        if _SECRET_KEY.search(key):
            raise AuditSecretError(f"audit details: field {key!r} looks like a secret; not logged")
        if isinstance(value, dict):
            _check_no_secrets(value)


def canonical(event: AuditEvent) -> bytes:
    """The bytes an entry's hash covers: every field but the hash, as sorted compact JSON."""
    body = {
        "seq": event.seq,
        "ts": event.ts,
        "actor": event.actor,
        "site": event.site,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and the entry's canonical encoding."""
    return hashlib.sha256(event.prev_hash.encode("ascii") + b"\n" + canonical(event)).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    # Every writer locks the one head row: on PostgreSQL FOR UPDATE serialises appenders,
    # on SQLite the write transaction already does.
    stmt = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    head = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.add(head)
    return head


def record_many(session: Session, entries: Iterable[Entry]) -> list[AuditEvent]:
    """Append entries to the chain inside the caller's transaction."""
    head = _lock_head(session)
    ts = _timestamp()
    written = []
    for entry in entries:
        _check_no_secrets(entry.details)
        event = AuditEvent(
            seq=head.seq + 1,
            ts=ts,
            actor=entry.actor,
            site=entry.site,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            from_state=entry.from_state,
            to_state=entry.to_state,
            details=json.dumps(entry.details, sort_keys=True, ensure_ascii=False, default=str),
            prev_hash=head.hash,
        )
        event.hash = chain_hash(event)
        head.seq, head.hash = event.seq, event.hash
        written.append(event)
    session.add_all(written)
    session.flush()
    return written


def record(session: Session, entry: Entry) -> AuditEvent:
    """Append one entry to the chain inside the caller's transaction."""
    return record_many(session, [entry])[0]


@dataclass(frozen=True)
class Verdict:
    """The outcome of walking the chain."""

    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""


def _first_fault(event: AuditEvent, expected_seq: int, prev_hash: str) -> str:
    if event.seq != expected_seq:
        return f"entry {expected_seq} is missing (next entry found is {event.seq})"
    if event.prev_hash != prev_hash:
        return f"entry {event.seq} does not follow entry {event.seq - 1} (previous-hash mismatch)"
    if chain_hash(event) != event.hash:
        return f"entry {event.seq} was altered (its content no longer matches its hash)"
    return ""


def verify(session: Session, batch_size: int = 5000) -> Verdict:
    """Walk the whole chain; name the first entry that was edited, deleted or moved."""
    prev_hash, expected, checked = GENESIS_HASH, 1, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(batch_size)
    for event in rows.scalars():
        fault = _first_fault(event, expected, prev_hash)
        if fault:
            return Verdict(False, checked, expected if event.seq != expected else event.seq, fault)
        prev_hash, expected, checked = event.hash, expected + 1, checked + 1
    head = session.get(AuditHead, HEAD_ID)
    if head is not None and (head.seq, head.hash) != (expected - 1, prev_hash):
        reason = f"entries after {expected - 1} were deleted (the head says {head.seq})"
        return Verdict(False, checked, expected, reason)
    return Verdict(True, checked)
