"""Production reports: what a site did in one local day, and where each application of a batch stands.

"What happened that day" is read from the audit log's transition entries (every state change has
one, with its timestamp), joined to the application or card for its site; the day's bounds are
local midnights in the configured time zone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from issuance.config import ConfigError
from issuance.models import (
    Applicant,
    Application,
    AuditEvent,
    Batch,
    Card,
    PrintAttempt,
    Printer,
    Site,
    Station,
    User,
    utcnow,
)
from issuance.sites import in_scope
from issuance.states import ApplicationState, CardState

# The audit log's timestamp format (issuance.audit): UTC, fixed width, so strings compare as times.
AUDIT_TS = "%Y-%m-%dT%H:%M:%S.%fZ"
NO_STATION = "-"
# Ids per lookup query (well under SQLite's and PostgreSQL's bound-parameter limits).
LOOKUP_CHUNK = 500

A, C = ApplicationState, CardState
# Each figure of the day: the audit action that counts it and, where a state is re-entered, the
# state it must come from (a spoiled card sends its application back to `batched`).
MEASURES: dict[str, tuple[str, str]] = {
    "enrolled": (f"application.{A.SUBMITTED}", ""),
    "approved": (f"application.{A.APPROVED}", ""),
    "exceptions": (f"application.{A.EXCEPTION}", ""),
    "rejected": (f"application.{A.REJECTED}", ""),
    "batched": (f"application.{A.BATCHED}", str(A.APPROVED)),
    "personalized": (f"card.{C.LOCKED}", ""),
    "spoiled": (f"card.{C.SPOILED}", ""),
    "printed": (f"card.{C.PRINTED}", ""),
    "dispatched": (f"application.{A.DISPATCHED}", ""),
    "delivered": (f"application.{A.DELIVERED}", ""),
}
CLERK_MEASURES = ("enrolled", "approved", "exceptions", "rejected")
# Print attempts the printing stage recorded as failed (its `print.*` entries say the state).
FAILED_PRINTS = frozenset({"failed", "interrupted"})


class ReportNotFound(LookupError):
    """The site or batch does not exist, or is outside what the user may see."""


class ReportRefused(PermissionError):
    """The user may not see reports of that site."""


@dataclass(frozen=True)
class StationDay:
    station: str
    personalized: int
    spoiled: int


@dataclass(frozen=True)
class PrinterDay:
    printer: str
    printed: int
    failed: int


@dataclass(frozen=True)
class ClerkDay:
    username: str
    full_name: str
    enrolled: int
    approved: int
    exceptions: int
    rejected: int


@dataclass(frozen=True)
class SpoilReason:
    step: str
    status_word: str
    cards: int


@dataclass(frozen=True)
class DailyReport:
    """One site's production in one local day."""

    site: str
    site_name: str
    day: dt.date
    timezone: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    totals: dict[str, int]
    stations: tuple[StationDay, ...]
    printers: tuple[PrinterDay, ...]
    clerks: tuple[ClerkDay, ...]
    spoiled: tuple[SpoilReason, ...]
    generated_at: dt.datetime
    generated_by: str


@dataclass(frozen=True)
class BatchLine:
    """One application of a batch: its state and its cards."""

    application_number: str
    arabic_name: str
    latin_name: str
    state: str
    document_number: str
    station: str
    spoiled_attempts: int
    print_attempts: int


@dataclass(frozen=True)
class BatchReport:
    number: str
    site: str
    status: str
    printer: str
    stations: tuple[str, ...]
    created_by: str
    created_at: dt.datetime
    counts: dict[str, int]
    lines: tuple[BatchLine, ...]
    generated_at: dt.datetime
    generated_by: str


def zone(name: str) -> ZoneInfo:
    """The configured time zone, or a ConfigError naming the setting."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"timezone: unknown time zone {name!r} (an IANA name such as Asia/Amman)") from exc


def day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight to the next local midnight, in UTC (a DST day is 23 or 25 hours)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    return start, end


def check_site(session: Session, user: User, site: str) -> Site:
    """The site, if it exists and the user may see it."""
    found = session.get(Site, site)
    if found is None:
        raise ReportNotFound(f"site: {site} does not exist")
    if not in_scope(user, site):
        raise ReportRefused(f"site: {user.username} may see reports of site {user.site} only")
    return found


def _in_day(start: dt.datetime, end: dt.datetime) -> Any:
    return (AuditEvent.ts >= start.strftime(AUDIT_TS)) & (AuditEvent.ts < end.strftime(AUDIT_TS))


def _counts_key(action: str, from_state: str) -> str | None:
    return next((name for name, (act, source) in MEASURES.items()
                 if act == action and source in ("", from_state)), None)


@dataclass(frozen=True)
class _Event:
    action: str
    from_state: str
    entity_id: int
    details: str


def _day_events(session: Session, entity_type: str, actions: Any, start: dt.datetime,
                end: dt.datetime) -> list[_Event]:
    """The day's audit entries about one kind of entity (no join: a few thousand rows, looked up next).

    Joining the audit log to its entities by a cast id leaves the planner guessing, and a bad guess
    (fresh statistics missing) turns into a nested loop over every application.
    """
    rows = session.execute(select(AuditEvent.action, AuditEvent.from_state, AuditEvent.entity_id,
                                  AuditEvent.details)
                           .where(AuditEvent.entity_type == entity_type, actions, _in_day(start, end)))
    return [_Event(a, f, int(i), d) for a, f, i, d in rows if i.isdigit() and len(i) <= 10]


def _chunks(ids: Iterable[int], size: int = LOOKUP_CHUNK) -> Iterable[list[int]]:
    unique = sorted(set(ids))
    return (unique[n:n + size] for n in range(0, len(unique), size))


def _application_counts(session: Session, site: str, start: dt.datetime,
                        end: dt.datetime) -> list[tuple[str, int, int]]:
    """(measure, clerk id, 1) for each of the day's application transitions at the site."""
    actions = [act for act, _ in MEASURES.values() if act.startswith("application.")]
    events = _day_events(session, "application", AuditEvent.action.in_(actions), start, end)
    clerks: dict[int, int] = {}
    for ids in _chunks(e.entity_id for e in events):
        rows = session.execute(select(Application.id, Application.clerk_id)
                               .where(Application.id.in_(ids), Application.site == site))
        clerks.update({app_id: clerk_id for app_id, clerk_id in rows})
    found = []
    for e in events:
        key = _counts_key(e.action, e.from_state)
        if key and e.entity_id in clerks:
            found.append((key, clerks[e.entity_id], 1))
    return found


@dataclass(frozen=True)
class _CardEvent:
    measure: str
    station: str
    printer: str
    step: str
    status_word: str
    failed_print: bool


def _card_facts(session: Session, site: str, ids: list[int]) -> dict[int, tuple[str, str, str, str]]:
    """Per card of the site: its station, its batch's printer, its failure step and status word."""
    batch_printer = aliased(Printer)
    rows = session.execute(
        select(Card.id, Station.code, batch_printer.code, Card.failure_step, Card.failure_status_word)
        .join(Application, Application.id == Card.application_id)
        .outerjoin(Station, Station.id == Card.station_id)
        .outerjoin(Batch, Batch.id == Application.batch_id)
        .outerjoin(batch_printer, batch_printer.id == Batch.printer_id)
        .where(Card.id.in_(ids), Application.site == site))
    return {card_id: (station or NO_STATION, printer or NO_STATION, step or "unknown", sw or "")
            for card_id, station, printer, step, sw in rows}


def _card_events(session: Session, site: str, start: dt.datetime, end: dt.datetime) -> list[_CardEvent]:
    """The day's card transitions and print attempts at the site, with station and printer."""
    actions = [act for act, _ in MEASURES.values() if act.startswith("card.")]
    events = _day_events(session, "card", AuditEvent.action.in_(actions) | AuditEvent.action.like("print.%"),
                         start, end)
    facts: dict[int, tuple[str, str, str, str]] = {}
    for ids in _chunks(e.entity_id for e in events):
        facts.update(_card_facts(session, site, ids))
    found = []
    for e in events:
        if e.entity_id not in facts:
            continue
        station, printer, step, sw = facts[e.entity_id]
        said = _details(e.details)
        found.append(_CardEvent(
            measure=_counts_key(e.action, "") or "", station=station,
            printer=str(said.get("printer") or printer), step=step, status_word=sw,
            failed_print=e.action.startswith("print.") and said.get("state") in FAILED_PRINTS))
    return found


def _details(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _stations(session: Session, site: str, events: list[_CardEvent]) -> tuple[StationDay, ...]:
    known = set(session.scalars(select(Station.code).where(Station.site == site)))
    done = Counter(e.station for e in events if e.measure == "personalized")
    spoiled = Counter(e.station for e in events if e.measure == "spoiled")
    codes = sorted(known | done.keys() | spoiled.keys())
    return tuple(StationDay(code, done[code], spoiled[code]) for code in codes)


def _printers(session: Session, site: str, events: list[_CardEvent]) -> tuple[PrinterDay, ...]:
    known = set(session.scalars(select(Printer.code).where(Printer.site == site)))
    printed = Counter(e.printer for e in events if e.measure == "printed")
    failed = Counter(e.printer for e in events if e.failed_print)
    codes = sorted(known | printed.keys() | failed.keys())
    return tuple(PrinterDay(code, printed[code], failed[code]) for code in codes)


def _clerks(session: Session, counts: list[tuple[str, int, int]]) -> tuple[ClerkDay, ...]:
    by_clerk: dict[int, Counter[str]] = {}
    for key, clerk_id, n in counts:
        if key in CLERK_MEASURES:
            by_clerk.setdefault(clerk_id, Counter())[key] += n
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(by_clerk))))}
    rows = [ClerkDay(users[i].username, users[i].full_name, *(c[m] for m in CLERK_MEASURES))
            for i, c in by_clerk.items()]
    return tuple(sorted(rows, key=lambda r: r.username))


def _spoil_reasons(events: Iterable[_CardEvent]) -> tuple[SpoilReason, ...]:
    reasons = Counter((e.step, e.status_word) for e in events if e.measure == "spoiled")
    return tuple(SpoilReason(step, sw, n) for (step, sw), n in sorted(reasons.items(),
                                                                      key=lambda kv: (-kv[1], kv[0])))


def daily_report(session: Session, user: User, site: str, day: dt.date, tz: ZoneInfo) -> DailyReport:
    """What the site did on `day` (local to `tz`), every figure from that day's audited transitions."""
    found = check_site(session, user, site)
    start, end = day_bounds(day, tz)
    counts = _application_counts(session, site, start, end)
    events = _card_events(session, site, start, end)
    totals = Counter({name: 0 for name in MEASURES})
    for key, _, n in counts:
        totals[key] += n
    totals.update(e.measure for e in events if e.measure)
    return DailyReport(
        site=site, site_name=found.name, day=day, timezone=tz.key, starts_at=start, ends_at=end,
        totals={name: totals[name] for name in MEASURES}, stations=_stations(session, site, events),
        printers=_printers(session, site, events), clerks=_clerks(session, counts),
        spoiled=_spoil_reasons(events), generated_at=utcnow(), generated_by=user.username)


def find_batch(session: Session, user: User, number: str) -> Batch:
    """The batch by number; not found when it does not exist or belongs to another site."""
    batch = session.scalars(select(Batch).where(Batch.number == number)).first()
    if batch is None or not in_scope(user, batch.site):
        raise ReportNotFound(f"batch: {number} does not exist")
    return batch


def _card_summary(session: Session, batch_id: int) -> dict[int, tuple[str, str, int]]:
    """Per application: the live card's document number, its station, and spoiled attempts."""
    rows = session.execute(
        select(Card.application_id, Card.state, Card.document_number, Station.code)
        .join(Application, Application.id == Card.application_id)
        .outerjoin(Station, Station.id == Card.station_id)
        .where(Application.batch_id == batch_id).order_by(Card.application_id, Card.attempt))
    summary: dict[int, tuple[str, str, int]] = {}
    for app_id, state, number, station in rows:
        document, where, spoiled = summary.get(app_id, ("", NO_STATION, 0))
        if state == CardState.SPOILED:
            spoiled += 1
        else:  # at most one live card, always the latest attempt (a unique index says so)
            document = number or ""
        summary[app_id] = (document, station or NO_STATION, spoiled)
    return summary


def _print_attempts(session: Session, batch_id: int) -> dict[int, int]:
    rows = session.execute(
        select(Card.application_id, func.count(PrintAttempt.id))
        .join(Card, Card.id == PrintAttempt.card_id).join(Application, Application.id == Card.application_id)
        .where(Application.batch_id == batch_id).group_by(Card.application_id))
    return {app_id: n for app_id, n in rows}


def batch_report(session: Session, user: User, number: str) -> BatchReport:
    """Every application of the batch with its state, card, station and attempts."""
    batch = find_batch(session, user, number)
    cards = _card_summary(session, batch.id)
    prints = _print_attempts(session, batch.id)
    rows = session.execute(select(Application, Applicant).join(Applicant)
                           .where(Application.batch_id == batch.id).order_by(Application.id))
    lines = []
    for app, applicant in rows:
        person = applicant.person
        document, station, spoiled = cards.get(app.id, ("", NO_STATION, 0))
        lines.append(BatchLine(app.number or "", person.full_name_ar, person.full_name_latin, str(app.state),
                               document, station, spoiled, prints.get(app.id, 0)))
    counts = Counter(line.state for line in lines)
    return BatchReport(
        number=batch.number, site=batch.site, status=str(batch.status),
        printer=batch.printer.code if batch.printer else NO_STATION,
        stations=tuple(sorted(s.code for s in batch.stations)), created_by=batch.created_by,
        created_at=batch.created_at, counts=dict(sorted(counts.items())), lines=tuple(lines),
        generated_at=utcnow(), generated_by=user.username)
