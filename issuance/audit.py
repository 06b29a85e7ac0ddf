"""Append-only audit log: who did what, when and where, chained by HMAC and anchored by signed checkpoints.

Each entry's hash is an HMAC (RFC 2104, SHA-256) over the previous hash and the entry, under a key
held outside the database (`issuance.audit_keys`); checkpoints signed with another outside key are
appended to a file (`issuance.audit_checkpoints`). A database administrator can delete or rewrite
rows, but cannot produce hashes or checkpoints that verify.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.audit_checkpoints import AuditAnchor, Checkpoint, CheckpointError
from issuance.audit_keys import UnknownAuditKey
from issuance.audit_secrets import AuditSecretError, check_no_secrets
from issuance.db import ANCHOR, PENDING
from issuance.models import AuditEvent, AuditHead

__all__ = ["AuditError", "AuditSecretError", "Entry", "Verdict", "record", "record_many", "verify"]

GENESIS_HASH = "0" * 64
HEAD_ID = 1


class AuditError(RuntimeError):
    """The audit log cannot be written: no keys for this session, or the head row is gone."""


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
        "key_id": event.key_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def anchor_of(session: Session) -> AuditAnchor:
    """The audit keys and checkpoint file the session's database was opened with."""
    anchor: AuditAnchor | None = session.info.get(ANCHOR)
    if anchor is None:
        raise AuditError("audit log: this database was opened without audit keys")
    return anchor


def chain_hash(anchor: AuditAnchor, event: AuditEvent) -> str:
    """HMAC-SHA256 under the entry's chain key over the previous hash and the canonical entry."""
    return anchor.keys.mac(event.prev_hash.encode("ascii") + b"\n" + canonical(event), event.key_id)


def _lock_head(session: Session) -> AuditHead:
    # Every writer locks the one head row: on PostgreSQL FOR UPDATE serialises appenders,
    # on SQLite the write transaction already does.
    stmt = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    head = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        raise AuditError("audit log: the head row is missing; run `issuance audit verify`")
    return head


def record_many(session: Session, entries: Iterable[Entry]) -> list[AuditEvent]:
    """Append entries to the chain inside the caller's transaction (nothing locked for none)."""
    entries = list(entries)
    if not entries:
        return []
    for entry in entries:
        check_no_secrets(entry.details)
    anchor = anchor_of(session)
    head = _lock_head(session)
    ts = _timestamp()
    written: list[AuditEvent] = []
    seq, prev = head.seq, head.hash
    for entry in entries:
        seq += 1
        event = AuditEvent(
            seq=seq,
            ts=ts,
            actor=entry.actor,
            site=entry.site,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            from_state=entry.from_state,
            to_state=entry.to_state,
            details=json.dumps(entry.details, sort_keys=True, ensure_ascii=False, default=str),
            prev_hash=prev,
            key_id=anchor.keys.key_id,
        )
        event.hash = prev = chain_hash(anchor, event)
        written.append(event)
    session.add_all(written)
    session.flush()
    # The head moves only after its entry exists: the database trigger checks exactly that.
    head.seq, head.hash = seq, prev
    session.flush()
    session.info[PENDING] = (seq, prev)
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
    checkpoints: int = 0


def _first_fault(anchor: AuditAnchor, event: AuditEvent, expected_seq: int, prev_hash: str) -> str:
    if event.seq != expected_seq:
        return f"entry {expected_seq} is missing (next entry found is {event.seq})"
    if event.prev_hash != prev_hash:
        return f"entry {event.seq} does not follow entry {event.seq - 1} (previous-hash mismatch)"
    try:
        keyed = chain_hash(anchor, event)
    except UnknownAuditKey:
        return f"entry {event.seq} names chain key {event.key_id!r}, which this installation does not hold"
    if keyed != event.hash:
        return f"entry {event.seq} was altered or forged (its HMAC does not match its content)"
    return ""


def _checkpoint_fault(event: AuditEvent, signed: dict[int, Checkpoint]) -> str:
    point = signed.get(event.seq)
    if point is None or point.hash == event.hash:
        return ""
    return f"entry {event.seq} differs from the signed checkpoint of {point.ts} (the chain was rewritten)"


def _head_fault(head: AuditHead | None, last_seq: int, last_hash: str) -> str:
    if head is None:
        return "the audit head row is missing (deleted)"
    if (head.seq, head.hash) != (last_seq, last_hash):
        return f"entries after {last_seq} were deleted (the head says {head.seq})"
    return ""


def _tail_fault(last_seq: int, signed: dict[int, Checkpoint]) -> str:
    newest = max(signed.values(), key=lambda p: p.seq, default=None)
    if newest is None or newest.seq <= last_seq:
        return ""
    return (f"entries after {last_seq} are gone: the signed checkpoint of {newest.ts} names entry "
            f"{newest.seq} (tail deleted, or an older copy of the database restored)")


def verify(session: Session, batch_size: int = 5000, *, checkpoint: bool = True) -> Verdict:
    """Walk the chain against the key and every signed checkpoint; name the first fault found.

    An intact chain gets a new checkpoint (unless `checkpoint` is False).
    """
    anchor = anchor_of(session)
    try:
        signed = {p.seq: p for p in anchor.log.read()}
    except CheckpointError as exc:
        return Verdict(False, 0, None, str(exc))
    prev_hash, expected, checked = GENESIS_HASH, 1, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(batch_size)
    for event in rows.scalars():
        fault = _first_fault(anchor, event, expected, prev_hash) or _checkpoint_fault(event, signed)
        if fault:
            return Verdict(False, checked, expected if event.seq != expected else event.seq, fault,
                           len(signed))
        prev_hash, expected, checked = event.hash, expected + 1, checked + 1
    fault = _head_fault(session.get(AuditHead, HEAD_ID), checked, prev_hash) or _tail_fault(checked, signed)
    if fault:
        return Verdict(False, checked, checked + 1, fault, len(signed))
    if checkpoint and checked:
        anchor.log.append(checked, prev_hash)
    return Verdict(True, checked, checkpoints=len(signed))
