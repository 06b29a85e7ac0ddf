"""Browser sessions of the web pages: a random cookie token, its CSRF token, idle and absolute expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import User, WebSession, utcnow

IDLE_MINUTES = 15
MAX_HOURS = 12  # one long counter shift; a session never outlives it, however busy
# last_seen is written at most this often, so a page load is not always a database write.
TOUCH_SECONDS = 30


@dataclass(frozen=True)
class Opened:
    """What the browser receives: the cookie token (never stored) and the form token."""

    token: str
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def open_session(session: Session, user: User, address: str = "", *, idle_minutes: int = IDLE_MINUTES,
                 now: dt.datetime | None = None) -> Opened:
    """A new browser session for a user who has just proved who they are (audited).

    Sessions nobody came back to are removed here, so the table holds only live ones.
    """
    now = now or utcnow()
    session.execute(delete(WebSession).where(or_(
        WebSession.last_seen < now - dt.timedelta(minutes=idle_minutes),
        WebSession.created_at < now - dt.timedelta(hours=MAX_HOURS))))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user.id, csrf_token=csrf))
    audit.record(session, audit.Entry(
        actor=user.username, site=user.site, action="session.opened", entity_type="user",
        entity_id=str(user.id), details={"address": address},
    ))
    return Opened(token, csrf)


def find_session(
    session: Session, token: str, *, idle_minutes: int = IDLE_MINUTES, now: dt.datetime | None = None,
    touch: bool = True,
) -> WebSession | None:
    """The live session a cookie token names, refreshed unless `touch` is off; None once it expired."""
    if not token:
        return None
    row = session.get(WebSession, _digest(token))
    if row is None:
        return None
    now = now or utcnow()
    idle = now - _aware(row.last_seen) > dt.timedelta(minutes=idle_minutes)
    too_old = now - _aware(row.created_at) > dt.timedelta(hours=MAX_HOURS)
    if idle or too_old:
        session.delete(row)
        return None
    if touch and now - _aware(row.last_seen) > dt.timedelta(seconds=TOUCH_SECONDS):
        row.last_seen = now
    return row


def close_session(session: Session, row: WebSession, user: User) -> None:
    """Sign out: the token stops working at once (audited)."""
    session.delete(row)
    audit.record(session, audit.Entry(
        actor=user.username, site=user.site, action="session.closed", entity_type="user",
        entity_id=str(user.id),
    ))


def close_all(session: Session, user_id: int) -> None:
    """End every session of a user (password reset, account disabled)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
