"""What the operators' screen knows of each encoding station: its heartbeat, its day, its self-tests.

A running station writes its status into its own row (one UPDATE per heartbeat, not audited: it
is a signal, not a record); the cards table stays the truth about cards. A self-test is asked for
by setting `self_test_requested_at` (audited); the station answers by writing `self_test_result`
with the request it answers, so a request is answered once and a newer one is seen as waiting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Application, Card, Station, User, utcnow
from issuance.roles import Permission, authorize
from issuance.sites import in_scope, scoped
from issuance.states import CardState
from issuance.transitions import Actor, NotFound

C = CardState
# A card the station finished: its chip verified and locked, whatever happened to it since.
DONE = (C.LOCKED, C.PRINTED, C.ISSUED, C.ACTIVE, C.SUSPENDED, C.REVOKED, C.EXPIRED)
# Heartbeats a station may miss before the screen shows it offline.
MISSED_BEATS = 3
# The step a station that stopped on purpose leaves behind (a crashed one just stops beating).
STOPPED = "stopped"


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every timestamp written here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def request_token(requested_at: dt.datetime | None) -> str | None:
    """A self-test request's identity as both databases give it back (UTC, ISO 8601)."""
    return None if requested_at is None else aware(requested_at).astimezone(dt.UTC).isoformat()


def waiting_request(requested_at: dt.datetime | None, result: dict[str, Any] | None) -> str | None:
    """The token of the self-test request not answered yet, if any."""
    token = request_token(requested_at)
    if token is None or (result or {}).get("request") == token:
        return None
    return token


def record_beat(session: Session, station_id: int, *, card_present: bool, card_id: int | None,
                step: str | None) -> str | None:
    """The station's heartbeat: one UPDATE; returns the self-test request waiting, if any."""
    row = session.execute(
        update(Station).where(Station.id == station_id)
        .values(seen_at=utcnow(), card_present=card_present, current_card_id=card_id, current_step=step)
        .returning(Station.self_test_requested_at, Station.self_test_result)).one_or_none()
    if row is None:
        raise NotFound(f"station {station_id} does not exist")
    return waiting_request(row[0], row[1])


def record_stop(session: Session, station_id: int) -> None:
    """The station process ended on purpose: shown stopped at once, not only once its beats are missed."""
    session.execute(update(Station).where(Station.id == station_id).values(
        seen_at=utcnow(), card_present=False, current_card_id=None, current_step=STOPPED))


def record_self_test(session: Session, station_id: int, token: str, result: dict[str, Any],
                     actor: Actor) -> None:
    """The station's answer to the request `token`, audited with its verdict and failed checks."""
    station = session.get_one(Station, station_id)
    station.self_test_result = {**result, "request": token}
    session.flush()
    failed = [str(c.get("name")) for c in result.get("checks", []) if not c.get("ok")]
    audit.record(session, audit.Entry(
        actor=actor.name, site=station.site, action="station.self_tested", entity_type="station",
        entity_id=station.code, details={"passed": bool(result.get("passed")), "failed": failed,
                                         "failure": str(result.get("failure", ""))[:200]}))


def station_in_scope(session: Session, user: User, code: str) -> Station:
    """The active station `code` of a site the user sees (NotFound otherwise, never a hint)."""
    station = session.scalars(select(Station).where(Station.code == code, Station.active)).first()
    if station is None or not in_scope(user, station.site):
        raise NotFound(f"station {code} does not exist")
    return station


def request_self_test(session: Session, user: User, code: str) -> Station:
    """Ask station `code` to test itself at its next heartbeat; audited."""
    authorize(user, Permission.OPERATE_STATION)
    station = station_in_scope(session, user, code)
    station.self_test_requested_at = utcnow()
    session.flush()
    audit.record(session, audit.Entry(
        actor=user.username, site=station.site, action="station.self_test_requested", entity_type="station",
        entity_id=station.code, details={"requested_at": request_token(station.self_test_requested_at)}))
    return station


def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in the server's local time, in UTC."""
    local = aware(now).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def day_counts(session: Session, station_ids: list[int], since: dt.datetime) -> dict[int, tuple[int, int]]:
    """Per station: cards finished since `since` (allocated since, now locked or later), and spoiled since."""
    done = and_(Card.state.in_(DONE), Card.created_at >= since)
    spoiled = and_(Card.state == C.SPOILED, Card.updated_at >= since)
    rows = session.execute(
        select(Card.station_id, Card.state, func.count())
        .where(Card.station_id.in_(station_ids), or_(done, spoiled))
        .group_by(Card.station_id, Card.state))
    counts = {i: [0, 0] for i in station_ids}
    for station_id, state, count in rows:
        if station_id is not None:
            counts[station_id][1 if state == C.SPOILED else 0] += count
    return {i: (c[0], c[1]) for i, c in counts.items()}


@dataclass(frozen=True)
class StationView:
    """One station as the operators' screen shows it."""

    code: str
    site: str
    reader: str
    online: bool
    stopped: bool
    seen_at: dt.datetime | None
    card_present: bool
    document_number: str | None
    application_number: str | None
    step: str | None
    done_today: int
    spoiled_today: int
    self_test_waiting: bool
    self_test_requested_at: dt.datetime | None
    self_test: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in self.__dict__.items()}

    @property
    def self_tested_at(self) -> dt.datetime | None:
        """When the last self-test finished (None when there is none, or its record is unreadable)."""
        try:
            return dt.datetime.fromisoformat(str((self.self_test or {})["finished_at"]))
        except (KeyError, ValueError):
            return None


def _current(session: Session, card_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    rows = session.execute(select(Card.id, Card.document_number, Application.number)
                           .join(Application, Card.application_id == Application.id)
                           .where(Card.id.in_(card_ids)))
    return {card_id: (number, app_number) for card_id, number, app_number in rows}


def station_views(session: Session, user: User, offline_after: float,
                  now: dt.datetime | None = None) -> list[StationView]:
    """Every active station the user sees, with its heartbeat, current card and day's figures."""
    now = now or utcnow()
    stations = list(session.scalars(scoped(select(Station).where(Station.active), user, Station.site)
                                    .order_by(Station.site, Station.code)))
    counts = day_counts(session, [s.id for s in stations], day_start(now))
    current = _current(session, [s.current_card_id for s in stations if s.current_card_id is not None])
    views = []
    for s in stations:
        seen = aware(s.seen_at) if s.seen_at else None
        stopped = s.current_step == STOPPED
        online = seen is not None and (now - seen).total_seconds() <= offline_after and not stopped
        number, app_number = current.get(s.current_card_id or 0, (None, None))
        views.append(StationView(
            s.code, s.site, s.reader, online, stopped, seen, bool(s.card_present) and online,
            number if online else None, app_number if online else None, s.current_step if online else None,
            *counts[s.id], waiting_request(s.self_test_requested_at, s.self_test_result) is not None,
            aware(s.self_test_requested_at) if s.self_test_requested_at else None, s.self_test_result))
    return views
