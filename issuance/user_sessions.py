"""Server-side sessions behind bearer tokens: short tokens, renewal up to one shift, revocation."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from issuance import auth
from issuance.models import User, UserSession, utcnow

SHIFT = dt.timedelta(hours=8)


@dataclass(frozen=True)
class Issued:
    token: str
    expires_in: int
    session_id: str


def _token(secret: bytes, user_id: int, session_id: str, now: dt.datetime,
           renew_until: dt.datetime) -> Issued:
    expires = min(now + dt.timedelta(seconds=auth.TOKEN_SECONDS), renew_until)
    token = auth.issue(secret, user_id, session_id, int(expires.timestamp()))
    return Issued(token, int((expires - now).total_seconds()), session_id)


def open_session(session: Session, secret: bytes, user: User, now: dt.datetime | None = None) -> Issued:
    """A new session for a user who just signed in, and its first token."""
    now = now or utcnow()
    row = UserSession(id=secrets.token_hex(16), user_id=user.id, created_at=now, renew_until=now + SHIFT)
    session.add(row)
    session.flush()
    return _token(secret, user.id, row.id, now, row.renew_until)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def resolve(session: Session, secret: bytes, token: str, now: dt.datetime | None = None) -> tuple[User, str]:
    """The active user and session id a token stands for; TokenError when any check fails."""
    now = now or utcnow()
    claims = auth.check(secret, token, now.timestamp())
    row = session.get(UserSession, claims.session_id)
    if row is None or row.user_id != claims.user_id:
        raise auth.TokenError("token: no such session")
    if row.revoked_at is not None:
        raise auth.TokenError("token: signed out, sign in again")
    if _aware(row.renew_until) < now:
        raise auth.TokenError("token: the session ended, sign in again")
    user = session.get(User, claims.user_id)
    if user is None or not user.active:
        raise auth.TokenError("token: account disabled or removed")
    return user, row.id


def renew(session: Session, secret: bytes, token: str, now: dt.datetime | None = None) -> Issued:
    """A fresh short token for the same session, never reaching past the end of the shift."""
    now = now or utcnow()
    user, session_id = resolve(session, secret, token, now)
    row = session.get_one(UserSession, session_id)
    return _token(secret, user.id, session_id, now, _aware(row.renew_until))


def _revoke(session: Session, which: ColumnElement[bool], now: dt.datetime | None) -> None:
    open_ones = update(UserSession).where(which, UserSession.revoked_at.is_(None))
    session.execute(open_ones.values(revoked_at=now or utcnow()))


def revoke(session: Session, session_id: str, now: dt.datetime | None = None) -> None:
    """Sign out: every token of this session stops working at once."""
    _revoke(session, UserSession.id == session_id, now)


def revoke_all(session: Session, user_id: int, now: dt.datetime | None = None) -> None:
    """End every open session of a user (account disabled, password changed)."""
    _revoke(session, UserSession.user_id == user_id, now)
