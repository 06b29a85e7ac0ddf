"""What the supervisor's dashboard shows, as plain data read from the database (the truth).

Sources, chosen so each figure has one meaning:
- counts, batches and ageing read the applications and cards tables as they stand; an
  application's `updated_at` is written only by `transitions.py`, so it is when it entered its
  current state;
- throughput counts the audit log's transitions into a milestone state (`application.<state>`
  entries, whose `ts` is UTC), bucketed by UTC hour and UTC day;
- per station, cards locked and spoiled since UTC midnight come from the audit log
  (`card.locked`, `card.spoiled`) joined to the card's station; per printer, print attempts
  finished since UTC midnight and those waiting now come from `print_attempts`.

Everything is limited to one site, or to none for a reader who sees every site (admins).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from issuance.config import ConfigError, Settings
from issuance.models import (
    Application,
    AuditEvent,
    Batch,
    Card,
    PrintAttempt,
    PrintAttemptState,
    Printer,
    Station,
    User,
    utcnow,
)
from issuance.sites import UnknownSite, sees_all_sites, site_codes
from issuance.states import ApplicationState, CardState

A = ApplicationState
# Transitions counted as throughput: one milestone per stage of the flow.
THROUGHPUT_STATES = (A.SUBMITTED, A.APPROVED, A.PERSONALIZED, A.PRINTED, A.DELIVERED)
# An application past these has left production: its batch counts it as done.
DONE_STATES = frozenset({A.PRINTED, A.QUALITY_CHECKED, A.DISPATCHED, A.DELIVERED})
# Nothing more happens to these, so they never age.
FINAL_STATES = frozenset({A.REJECTED, A.DELIVERED})
AGEING_STATES = tuple(s for s in A if s not in FINAL_STATES)
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
LIST_LIMIT = 20
BATCH_LIMIT = 25
HOURS, DAYS = 24, 30
# Any select, whatever its columns (Select is generic over a TypeVarTuple in SQLAlchemy 2.1).
S = TypeVar("S", bound=Select[*tuple[Any, ...]])


class ScopeRefused(PermissionError):
    """A site the reader may not see."""


@dataclass(frozen=True)
class Scope:
    """The site a dashboard covers; None covers every site (admins only)."""

    site: str | None

    def only(self, stmt: S, column: InstrumentedAttribute[str]) -> S:
        """The query limited to this scope's site."""
        return stmt if self.site is None else stmt.where(column == self.site)


def scope_for(session: Session, user: User, wanted: str | None) -> Scope:
    """The reader's own site, or for an admin the site asked for (None: all sites)."""
    wanted = wanted or None
    if not sees_all_sites(user):
        if wanted not in (None, user.site):
            raise ScopeRefused(f"site: you may see only your own site {user.site}")
        return Scope(user.site)
    if wanted is not None and wanted not in site_codes(session):
        raise UnknownSite(f"site: no site named {wanted!r}")
    return Scope(wanted)


@dataclass(frozen=True)
class StateCount:
    state: str
    count: int


@dataclass(frozen=True)
class BatchProgress:
    number: str
    site: str
    status: str
    created_at: dt.datetime
    total: int
    by_state: dict[str, int]
    done: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class Throughput:
    """Transitions into each milestone state per time bucket (labels are UTC hours or days)."""

    labels: list[str]
    series: dict[str, list[int]]


@dataclass(frozen=True)
class AgeingRow:
    state: str
    count: int
    oldest_hours: float | None
    limit_hours: float
    overdue: int


@dataclass(frozen=True)
class OverdueItem:
    number: str
    site: str
    state: str
    since: dt.datetime
    hours: float


@dataclass(frozen=True)
class SpoiledCard:
    card_id: int
    application_number: str
    station: str
    step: str
    status_word: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class FailureCount:
    step: str
    status_word: str
    count: int


@dataclass(frozen=True)
class PrintFailure:
    printer: str
    application_number: str
    state: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class StationFigures:
    code: str
    site: str
    done_today: int
    spoiled_today: int
    in_progress: int


@dataclass(frozen=True)
class PrinterFigures:
    code: str
    site: str
    printed_today: int
    failed_today: int
    waiting: int
    interrupted: int


@dataclass(frozen=True)
class Dashboard:
    generated_at: dt.datetime
    site: str | None
    applications: list[StateCount]
    cards: list[StateCount]
    batches: list[BatchProgress]
    hourly: Throughput
    daily: Throughput
    ageing: list[AgeingRow]
    overdue: list[OverdueItem]
    spoiled: list[SpoiledCard]
    spoiled_by_step: list[FailureCount]
    print_failures: list[PrintFailure]
    exception_reasons: list[StateCount]
    stations: list[StationFigures]
    printers: list[PrinterFigures]
    totals: dict[str, int] = field(default_factory=dict)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def audit_ts(value: dt.datetime) -> str:
    """A time written as the audit log writes `ts` (so text comparison orders by time)."""
    return value.astimezone(dt.UTC).strftime(TS_FORMAT)


def ageing_limits(settings: Settings) -> dict[str, float]:
    """Hours each state may hold an application before it is overdue (`ageing_limits` overrides)."""
    default = float(settings.ageing_limit_hours)
    if default <= 0:
        raise ConfigError(f"ageing_limit_hours: must be above 0, got {settings.ageing_limit_hours!r}")
    table = settings.extra.get("ageing_limits") or {}
    if not isinstance(table, Mapping):
        raise ConfigError("ageing_limits: must be a table of state = hours")
    limits = {str(s): default for s in AGEING_STATES}
    for state, hours in table.items():
        if state not in limits:
            raise ConfigError(f"ageing_limits.{state}: not a state that ages ({', '.join(limits)})")
        try:
            limits[state] = float(hours)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"ageing_limits.{state}: must be a number of hours, got {hours!r}") from exc
        if limits[state] <= 0:
            raise ConfigError(f"ageing_limits.{state}: must be above 0, got {hours!r}")
    return limits


def _state_counts(rows: Iterable[Any], order: Iterable[str]) -> list[StateCount]:
    found = Counter({str(state): int(n) for state, n in rows})
    return [StateCount(s, found[s]) for s in order if found[s]]


def application_counts(session: Session, scope: Scope) -> list[StateCount]:
    """Applications per state, in life-cycle order."""
    stmt = scope.only(select(Application.state, func.count()).group_by(Application.state), Application.site)
    return _state_counts(session.execute(stmt), [str(s) for s in A])


def card_counts(session: Session, scope: Scope) -> list[StateCount]:
    """Cards per state (a card's site is its application's)."""
    stmt = scope.only(select(Card.state, func.count())
                      .join(Application, Card.application_id == Application.id).group_by(Card.state),
                      Application.site)
    return _state_counts(session.execute(stmt), [str(s) for s in CardState])


def batch_progress(session: Session, scope: Scope, limit: int = BATCH_LIMIT) -> list[BatchProgress]:
    """The newest batches with their applications per state."""
    newest = scope.only(select(Batch), Batch.site).order_by(Batch.id.desc()).limit(limit)
    batches = list(session.scalars(newest))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = session.execute(select(Application.batch_id, Application.state, func.count())
                           .where(Application.batch_id.in_([b.id for b in batches]))
                           .group_by(Application.batch_id, Application.state))
    for batch_id, state, n in rows:
        counts[int(batch_id or 0)][str(state)] = int(n)
    return [BatchProgress(b.number, b.site, str(b.status), as_utc(b.created_at), sum(counts[b.id].values()),
                          {s: counts[b.id][s] for s in map(str, A) if s in counts[b.id]},
                          sum(n for s, n in counts[b.id].items() if s in DONE_STATES))
            for b in batches]


def _buckets(now: dt.datetime, hourly: bool) -> list[str]:
    if hourly:
        top = now.replace(minute=0, second=0, microsecond=0)
        return [(top - dt.timedelta(hours=HOURS - 1 - i)).strftime("%Y-%m-%dT%H") for i in range(HOURS)]
    return [(now.date() - dt.timedelta(days=DAYS - 1 - i)).isoformat() for i in range(DAYS)]


def _application_events(scope: Scope) -> Select[Any]:
    joined = select(AuditEvent).join(Application, AuditEvent.entity_id == cast(Application.id, String))
    return scope.only(joined.where(AuditEvent.entity_type == "application"), Application.site)


def throughput(session: Session, scope: Scope, now: dt.datetime, hourly: bool) -> Throughput:
    """Transitions into each milestone state per UTC hour (last 24) or UTC day (last 30)."""
    labels = _buckets(now, hourly)
    bucket = func.substr(AuditEvent.ts, 1, 13 if hourly else 10)
    stmt = (_application_events(scope).with_only_columns(bucket, AuditEvent.to_state, func.count())
            .where(AuditEvent.to_state.in_([str(s) for s in THROUGHPUT_STATES]),
                   AuditEvent.ts >= audit_ts(_start_of(labels[0], hourly)))
            .group_by(bucket, AuditEvent.to_state))
    found = {(b, s): int(n) for b, s, n in session.execute(stmt)}
    return Throughput(labels, {str(s): [found.get((b, str(s)), 0) for b in labels]
                               for s in THROUGHPUT_STATES})


def _start_of(label: str, hourly: bool) -> dt.datetime:
    text = f"{label}:00" if hourly else f"{label}T00:00"
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _overdue_clause(cutoffs: dict[str, dt.datetime]) -> ColumnElement[bool]:
    limit = case(cutoffs, value=Application.state)
    return and_(Application.state.in_(list(cutoffs)), Application.updated_at < limit)


def ageing(session: Session, scope: Scope, limits: dict[str, float],
           now: dt.datetime) -> tuple[list[AgeingRow], list[OverdueItem]]:
    """Per state: how many, the oldest, how many past their limit; and the overdue ones, oldest first."""
    cutoffs = {s: now - dt.timedelta(hours=h) for s, h in limits.items()}
    late = case((_overdue_clause(cutoffs), 1), else_=0)
    stmt = scope.only(select(Application.state, func.count(), func.min(Application.updated_at),
                             func.sum(late))
                      .where(Application.state.in_(list(limits))).group_by(Application.state),
                      Application.site)
    rows = {str(s): (int(n), as_utc(oldest), int(o or 0)) for s, n, oldest, o in session.execute(stmt)}
    table = [AgeingRow(s, rows[s][0], _hours(now, rows[s][1]), limits[s], rows[s][2])
             for s in limits if s in rows]
    items = session.execute(scope.only(
        select(Application.number, Application.site, Application.state, Application.updated_at)
        .where(_overdue_clause(cutoffs)).order_by(Application.updated_at, Application.id).limit(LIST_LIMIT),
        Application.site))
    overdue = [OverdueItem(n or "", site, str(st), as_utc(t), _hours(now, as_utc(t)))
               for n, site, st, t in items]
    return table, overdue


def _hours(now: dt.datetime, since: dt.datetime) -> float:
    return round((now - since).total_seconds() / 3600, 1)


def _cards(scope: Scope) -> Select[Any]:
    return scope.only(select(Card).join(Application, Card.application_id == Application.id), Application.site)


def spoiled_cards(session: Session, scope: Scope,
                  since: dt.datetime) -> tuple[list[SpoiledCard], list[FailureCount]]:
    """The latest spoiled cards with their step, status word and reason; and counts per step since `since`."""
    latest = session.execute(_cards(scope).with_only_columns(
        Card.id, Application.number, Station.code, Card.failure_step, Card.failure_status_word,
        Card.status_reason, Card.updated_at).outerjoin(Station, Card.station_id == Station.id)
        .where(Card.state == CardState.SPOILED).order_by(Card.updated_at.desc(), Card.id.desc())
        .limit(LIST_LIMIT))
    cards = [SpoiledCard(i, n or "", st or "", step or "", sw or "", why or "", as_utc(at))
             for i, n, st, step, sw, why, at in latest]
    grouped = session.execute(_cards(scope).with_only_columns(Card.failure_step, Card.failure_status_word,
                                                              func.count())
                              .where(Card.state == CardState.SPOILED, Card.updated_at >= since)
                              .group_by(Card.failure_step, Card.failure_status_word))
    counts = sorted((FailureCount(step or "", sw or "", int(n)) for step, sw, n in grouped),
                    key=lambda f: (-f.count, f.step, f.status_word))
    return cards, counts


def print_failures(session: Session, scope: Scope) -> list[PrintFailure]:
    """The latest failed or interrupted print attempts, with the spooler's reason."""
    rows = session.execute(scope.only(
        select(PrintAttempt.printer, Application.number, PrintAttempt.state, PrintAttempt.reason,
               PrintAttempt.updated_at)
        .join(Card, PrintAttempt.card_id == Card.id).join(Application, Card.application_id == Application.id)
        .where(PrintAttempt.state.in_([PrintAttemptState.FAILED, PrintAttemptState.INTERRUPTED]))
        .order_by(PrintAttempt.updated_at.desc(), PrintAttempt.id.desc()).limit(LIST_LIMIT),
        Application.site))
    return [PrintFailure(p, n or "", str(s), why or "", as_utc(at)) for p, n, s, why, at in rows]


def reason_codes(reasons: list[Any] | None) -> set[str]:
    """The codes of a validation outcome's reasons (`Application.outcome_reasons`)."""
    return {str(r.get("code", "")) for r in reasons or [] if isinstance(r, dict)}


def exception_reasons(session: Session, scope: Scope) -> list[StateCount]:
    """Applications waiting in `exception`, counted per reason code (one application may have several)."""
    held = session.scalars(scope.only(select(Application.outcome_reasons)
                                      .where(Application.state == A.EXCEPTION), Application.site))
    found: Counter[str] = Counter()
    for reasons in held:
        found.update(reason_codes(reasons))
    return [StateCount(code, n) for code, n in sorted(found.items(), key=lambda x: (-x[1], x[0]))]


def station_figures(session: Session, scope: Scope, today: dt.datetime) -> list[StationFigures]:
    """Per station: cards locked and spoiled since `today` (audit log), and cards on it now."""
    stations = list(session.scalars(scope.only(select(Station), Station.site).order_by(Station.code)))
    events = session.execute(
        select(Card.station_id, AuditEvent.action, func.count())
        .join(Card, AuditEvent.entity_id == cast(Card.id, String))
        .where(AuditEvent.entity_type == "card", AuditEvent.action.in_(["card.locked", "card.spoiled"]),
               AuditEvent.ts >= audit_ts(today), Card.station_id.in_([s.id for s in stations]))
        .group_by(Card.station_id, AuditEvent.action))
    done = {(sid, action): int(n) for sid, action, n in events}
    busy = {sid: int(n) for sid, n in session.execute(
        select(Card.station_id, func.count())
        .where(Card.state.in_([CardState.ALLOCATED, CardState.ENCODING]),
               Card.station_id.in_([s.id for s in stations]))
        .group_by(Card.station_id))}
    return [StationFigures(s.code, s.site, done.get((s.id, "card.locked"), 0),
                           done.get((s.id, "card.spoiled"), 0), busy.get(s.id, 0)) for s in stations]


def printer_figures(session: Session, scope: Scope, today: dt.datetime) -> list[PrinterFigures]:
    """Per printer: attempts completed and failed since `today`, and those waiting or interrupted now."""
    printers = list(session.scalars(scope.only(select(Printer), Printer.site).order_by(Printer.code)))
    P = PrintAttemptState
    recent = (PrintAttempt.updated_at >= today)
    rows = session.execute(select(
        PrintAttempt.printer,
        func.sum(case((and_(PrintAttempt.state == P.COMPLETED, recent), 1), else_=0)),
        func.sum(case((and_(PrintAttempt.state == P.FAILED, recent), 1), else_=0)),
        func.sum(case((PrintAttempt.state.in_([P.WAITING, P.SUBMITTING]), 1), else_=0)),
        func.sum(case((PrintAttempt.state == P.INTERRUPTED, 1), else_=0)))
        .where(PrintAttempt.printer.in_([p.code for p in printers])).group_by(PrintAttempt.printer))
    found = {code: tuple(int(v or 0) for v in values) for code, *values in rows}
    return [PrinterFigures(p.code, p.site, *found.get(p.code, (0, 0, 0, 0))) for p in printers]


def dashboard(session: Session, scope: Scope, settings: Settings,
              now: dt.datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, for one scope, as of `now`."""
    now = as_utc(now or utcnow())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    table, overdue = ageing(session, scope, ageing_limits(settings), now)
    spoiled, by_step = spoiled_cards(session, scope, today - dt.timedelta(days=DAYS - 1))
    apps, cards = application_counts(session, scope), card_counts(session, scope)
    return Dashboard(
        generated_at=now, site=scope.site, applications=apps, cards=cards,
        batches=batch_progress(session, scope),
        hourly=throughput(session, scope, now, hourly=True),
        daily=throughput(session, scope, now, hourly=False),
        ageing=table, overdue=overdue, spoiled=spoiled, spoiled_by_step=by_step,
        print_failures=print_failures(session, scope), exception_reasons=exception_reasons(session, scope),
        stations=station_figures(session, scope, today), printers=printer_figures(session, scope, today),
        totals={"applications": sum(c.count for c in apps), "cards": sum(c.count for c in cards)})
