"""`pki status`: every key and certificate with its validity, use count and warnings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.keystore import Keystore
from issuance.models import KeyUse
from issuance.pki.store import PkiDirectory, Status


@dataclass(frozen=True)
class KeyStatus:
    label: str
    role: str
    kind: str
    created: str
    status: str
    not_after: str
    signs_until: str
    signatures: int
    warnings: list[str] = field(default_factory=list)


def _days_left(iso: str, now: dt.datetime) -> int:
    return (dt.datetime.fromisoformat(iso) - now).days


def _warnings(status: str, not_after: str, signs_until: str, in_keystore: bool, retired_in_keystore: bool,
              within: int, now: dt.datetime) -> list[str]:
    found = []
    if not in_keystore:
        found.append("key missing from the keystore")
    if status == Status.RETIRED and not retired_in_keystore:
        found.append("retired here but the keystore still lets it sign")
    if not_after and _days_left(not_after, now) < within:
        found.append(f"certificate expires in {_days_left(not_after, now)} days")
    if status == Status.ACTIVE and signs_until and _days_left(signs_until, now) < within:
        found.append(f"key usage period ends in {_days_left(signs_until, now)} days: rotate it")
    return found


def pki_status(session: Session, keystore: Keystore, directory: PkiDirectory, within_days: int = 30,
               now: dt.datetime | None = None) -> list[KeyStatus]:
    """The PKI's keys (from its index) and any other keystore keys, such as SCP03 master keys."""
    now = now or dt.datetime.now(dt.UTC)
    keys = {k.label: k for k in keystore.list_keys()}
    uses = {u.label: u.signatures for u in session.scalars(select(KeyUse))}
    records = directory.load().keys if directory.exists else []
    rows = []
    for r in records:
        key = keys.get(r.label)
        warnings = _warnings(r.status, r.not_after, r.signs_until, key is not None,
                             key is not None and key.retired, within_days, now)
        rows.append(KeyStatus(r.label, r.role, key.kind.value if key else "?",
                              key.created.date().isoformat() if key else "?", r.status, r.not_after,
                              r.signs_until, uses.get(r.label, 0), warnings))
    known = {r.label for r in records}
    for label, key in sorted(keys.items()):
        if label not in known:
            role = "scp03-master" if key.kind.value.startswith("aes") else "other"
            state = Status.RETIRED if key.retired else Status.ACTIVE
            rows.append(KeyStatus(label, role, key.kind.value, key.created.date().isoformat(), state, "", "",
                                  uses.get(label, 0)))
    return rows
