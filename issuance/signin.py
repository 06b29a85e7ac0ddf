"""Signing in: the one service every entry point (API, HTML pages, CLI) calls.

It resists guessing (OWASP ASVS 5.0 §6.3): failures per account name and per client address earn an
exponential delay, then a lockout only an administrator lifts; every failure and lockout is audited;
an unknown or disabled account costs the same argon2 work as a real one, so timing tells nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import SignInThrottle, User, utcnow

ACCOUNT, ADDRESS = "account", "address"
# Failures allowed before any delay; the delay then doubles per failure up to MAX_DELAY.
FREE_FAILURES = 3
MAX_DELAY = dt.timedelta(minutes=15)
LOCK_AFTER = {ACCOUNT: 10, ADDRESS: 50}
# Failures older than this are forgotten (a lockout is not: only an administrator lifts it).
FORGET_AFTER = dt.timedelta(hours=1)
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in was refused, as the caller should say it."""

    reason: Literal["wrong", "throttled", "locked"]
    message: str
    retry_after: int = 0


WRONG = Refusal("wrong", "user name or password is wrong")


@cache
def _dummy_hash() -> str:
    # Verified against when the account does not exist, so unknown names cost as much as real ones.
    return _hasher.hash("no such account; this hash only costs time")


def _subject(value: str) -> str:
    return value if _PRINTABLE.match(value) else "(unprintable)"


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return moment.replace(tzinfo=dt.UTC) if moment is not None and moment.tzinfo is None else moment


def _throttle(session: Session, scope: str, subject: str) -> SignInThrottle:
    key = (scope, _subject(subject))
    stmt = select(SignInThrottle).where(SignInThrottle.scope == key[0], SignInThrottle.subject == key[1])
    row = session.execute(stmt.with_for_update()).scalar_one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = SignInThrottle(scope=key[0], subject=key[1], failures=0, locked=False)
            session.add(row)
    except IntegrityError:  # a concurrent attempt created it first
        row = session.execute(stmt.with_for_update()).scalar_one()
    return row


def _refusal(row: SignInThrottle, now: dt.datetime) -> Refusal | None:
    if row.locked:
        return Refusal("locked", f"too many failed sign-ins: this {row.scope} is locked until an "
                                 "administrator unlocks it")
    blocked = _aware(row.blocked_until)
    if blocked is not None and blocked > now:
        wait = int((blocked - now).total_seconds()) + 1
        return Refusal("throttled", f"too many failed sign-ins: try again in {wait} s", wait)
    return None


def _fail(row: SignInThrottle, now: dt.datetime) -> bool:
    """Count a failure; True when it locks the account or address."""
    last = _aware(row.last_failure_at)
    if last is not None and now - last > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures > FREE_FAILURES:
        delay = dt.timedelta(seconds=2 ** (row.failures - FREE_FAILURES - 1))
        row.blocked_until = now + min(delay, MAX_DELAY)
    if row.failures >= LOCK_AFTER[row.scope] and not row.locked:
        row.locked = True
        return True
    return False


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None; the same argon2 cost either way."""
    user = None
    if _PRINTABLE.match(username):
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    try:
        _hasher.verify(user.password_hash if user is not None else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and user.active else None


def _audit(session: Session, action: str, username: str, address: str, **details: object) -> None:
    known = session.execute(select(User.id, User.site).where(User.username == _subject(username))).first()
    # A name that is no account may be a password typed in the wrong box: it is not logged.
    who = {"username": username} if known else {"unknown_account": True}
    audit.record(session, audit.Entry(
        actor=username if known else "(unknown)", site=known.site if known else "", action=action,
        entity_type="user", entity_id=str(known.id) if known else "",
        details={**who, "address": address, **details},
    ))


def sign_in(session: Session, username: str, password: str, address: str,
            now: dt.datetime | None = None) -> User | Refusal:
    """The user, or why not; throttles and audit rows are written in the caller's transaction.

    The caller commits even on a refusal, so the failure counts.
    """
    now = now or utcnow()
    gates = [_throttle(session, ACCOUNT, username), _throttle(session, ADDRESS, address)]
    for gate in gates:
        refusal = _refusal(gate, now)
        if refusal is not None:
            _audit(session, "signin.refused", username, address, because=refusal.reason)
            return refusal
    user = check_password(session, username, password)
    if user is None:
        _audit(session, "signin.failed", username, address)
        for gate in gates:
            if _fail(gate, now):
                _audit(session, "signin.locked", username, address, scope=gate.scope,
                       failures=gate.failures)
        return WRONG
    gates[0].failures, gates[0].blocked_until = 0, None
    _audit(session, "signin.succeeded", username, address)
    return user


def unlock(session: Session, scope: str, subject: str, *, actor: str) -> bool:
    """Lift the lockout and delay of an account name or address; audited. False if none was held."""
    row = session.get(SignInThrottle, (scope, _subject(subject)))
    if row is None or (row.failures == 0 and not row.locked):
        return False
    row.failures, row.blocked_until, row.locked = 0, None, False
    audit.record(session, audit.Entry(actor=actor, action="signin.unlocked", entity_type=scope,
                                      details={"scope": scope, scope: subject}))
    return True
