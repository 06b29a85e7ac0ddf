"""A day of mixed production at two sites, with audit timestamps set around the local day's edges.

The reports' day is 2026-03-10 in Asia/Amman (UTC+3): it runs from 2026-03-09T21:00Z to
2026-03-10T21:00Z. `build_day` records activity just before, inside (at both edges) and just after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from issuance import audit
from issuance.applications import submit
from issuance.batches import create_batch
from issuance.config import Settings
from issuance.db import Database
from issuance.equipment import add_printer, add_station
from issuance.models import (
    Application,
    AuditEvent,
    Card,
    PrintAttempt,
    PrintAttemptState,
    Role,
    Station,
    User,
)
from issuance.states import ApplicationState as A
from issuance.states import CardState as C
from issuance.transitions import Actor, allocate_card, move
from tests.factories import make_applications, make_user

DAY = dt.date(2026, 3, 10)
TZ = ZoneInfo("Asia/Amman")
BEFORE = "2026-03-09T20:30:00.000000Z"  # 23:30 on the 9th, local
FIRST = "2026-03-09T21:10:00.000000Z"  # 00:10 on the 10th, local (still the 9th in UTC)
MIDDAY = "2026-03-10T09:00:00.000000Z"
LAST = "2026-03-10T20:59:59.999999Z"  # 23:59:59.999999 on the 10th, local
AFTER = "2026-03-10T21:00:00.000000Z"  # midnight starting the 11th, local
CLERK_NAME_AR = "نادية الخطيب"
FORMULA_NAME = "=cmd|' /C calc'!A0"
WORKER = Actor("worker")

EXPECTED_TOTALS = {"enrolled": 5, "approved": 4, "exceptions": 2, "rejected": 1, "batched": 5,
                   "personalized": 2, "spoiled": 2, "printed": 1, "dispatched": 1, "delivered": 1}


@dataclass
class Day:
    """What build_day made: the HQ applications in order, the batch, the users."""

    hq: list[int]
    north: list[int]
    batch: str
    users: dict[str, User]
    documents: dict[int, str] = field(default_factory=dict)


def _at(monkeypatch: pytest.MonkeyPatch, ts: str) -> None:
    monkeypatch.setattr(audit, "_timestamp", lambda now=None: ts)


def _moves(db: Database, app_ids: list[int], *targets: A) -> None:
    with db.transaction() as s:
        for app_id in app_ids:
            for target in targets:
                move(s, Application, app_id, target, WORKER)


def _submit(db: Database, clerk: User, count: int, seed: int) -> list[int]:
    ids = make_applications(db, clerk, count=count, seed=seed)
    with db.transaction() as s:
        for app_id in ids:
            submit(s, app_id, Actor(clerk.username, clerk.site))
    return ids


def _card(s: Session, app_id: int, station: Station, *, fail: tuple[str, str | None] | None = None,
          document: str = "") -> int:
    """One card attempt at the station: spoiled at a step, or carried to `locked`."""
    move(s, Application, app_id, A.PERSONALIZING, WORKER, expected=A.BATCHED)
    card = allocate_card(s, app_id, WORKER, station_id=station.id)
    move(s, Card, card.id, C.ENCODING, WORKER)
    if fail:
        move(s, Card, card.id, C.SPOILED, WORKER,
             values={"failure_step": fail[0], "failure_status_word": fail[1]})
        move(s, Application, app_id, A.BATCHED, WORKER, expected=A.PERSONALIZING)
        return card.id
    move(s, Card, card.id, C.ENCODED, WORKER, values={"document_number": document})
    move(s, Card, card.id, C.VERIFIED, WORKER)
    move(s, Card, card.id, C.LOCKED, WORKER)
    move(s, Application, app_id, A.PERSONALIZED, WORKER)
    move(s, Application, app_id, A.PRINTING, WORKER)
    return card.id


def _print(s: Session, card_id: int, state: PrintAttemptState, printer: str = "P1") -> None:
    """A print attempt as the print stage records it (its row and its audit entry)."""
    s.add(PrintAttempt(card_id=card_id, number=1, printer=printer, job_name=f"card-{card_id}", state=state))
    action = "print.printed" if state == PrintAttemptState.COMPLETED else "print.resubmit"
    audit.record(s, audit.Entry(actor="printing", action=action, entity_type="card", entity_id=str(card_id),
                                details={"attempt": 1, "printer": printer, "state": str(state)}))
    if state == PrintAttemptState.COMPLETED:
        card = s.get_one(Card, card_id)
        move(s, Card, card_id, C.PRINTED, WORKER, details={"printer": printer})
        move(s, Application, card.application_id, A.PRINTED, WORKER)


def _equipment(db: Database) -> dict[str, Station]:
    with db.transaction() as s:
        stations = {code: add_station(s, code, site, "", actor="test")
                    for code, site in (("S1", "HQ"), ("S2", "HQ"), ("SN", "NORTH"))}
        add_printer(s, "P1", "HQ", "folder", "", actor="test")
        add_printer(s, "PN", "NORTH", "folder", "", actor="test")
        s.expunge_all()
    return stations


def build_day(db: Database, monkeypatch: pytest.MonkeyPatch) -> Day:
    """The activity whose HQ figures for DAY are EXPECTED_TOTALS (see the module's docstring)."""
    users = {"clerk1": make_user(db, "clerk1", Role.CLERK), "clerk2": make_user(db, "clerk2", Role.CLERK),
             "clerkn": make_user(db, "clerkn", Role.CLERK, site="NORTH"),
             "boss": make_user(db, "boss", Role.SUPERVISOR), "north": make_user(db, "north", Role.SUPERVISOR,
                                                                               site="NORTH"),
             "admin": make_user(db, "root", Role.ADMIN)}
    with db.transaction() as s:
        s.execute(update(User).where(User.username == "clerk1").values(full_name=CLERK_NAME_AR))
        s.execute(update(User).where(User.username == "clerk2").values(full_name=FORMULA_NAME))
    stations = _equipment(db)
    _at(monkeypatch, BEFORE)
    a0, a1 = _submit(db, users["clerk1"], 2, seed=1)
    _moves(db, [a0], A.VALIDATING, A.APPROVED)
    _at(monkeypatch, FIRST)
    a2, a3, a4 = _submit(db, users["clerk1"], 3, seed=2)
    a5, a6 = _submit(db, users["clerk2"], 2, seed=3)
    _at(monkeypatch, MIDDAY)
    north = _submit(db, users["clerkn"], 2, seed=4)
    _moves(db, north[:1], A.VALIDATING, A.APPROVED)
    _moves(db, [a1, a2, a3, a4, a5, a6], A.VALIDATING)
    _moves(db, [a1, a2, a6], A.APPROVED)
    _moves(db, [a3, a5], A.EXCEPTION)
    _moves(db, [a4], A.REJECTED)
    _moves(db, [a5], A.APPROVED)
    with db.transaction() as s:
        batch = create_batch(s, "HQ", Actor("boss", "HQ"))
        assert batch is not None
        number = batch.number
        _card(s, a0, stations["S1"], fail=("write_dg2", "6A82"))
        c0 = _card(s, a0, stations["S2"], document="D00000010")
        c1 = _card(s, a1, stations["S1"], document="D00000011")
        _card(s, a2, stations["S1"], fail=("select", None))
    _at(monkeypatch, LAST)
    with db.transaction() as s:
        _print(s, c0, PrintAttemptState.COMPLETED)
        _print(s, c1, PrintAttemptState.FAILED)
    _moves(db, [a0], A.QUALITY_CHECKED, A.DISPATCHED, A.DELIVERED)
    _at(monkeypatch, AFTER)
    _submit(db, users["clerk2"], 1, seed=5)
    with db.transaction() as s:
        s.add(PrintAttempt(card_id=c1, number=2, printer="P1", job_name="again",
                           state=PrintAttemptState.FAILED))
    monkeypatch.undo()
    return Day([a0, a1, a2, a3, a4, a5, a6], north, number, users, {a0: "D00000010", a1: "D00000011"})


def naive_totals(db: Database, site: str, day: dt.date, tz: ZoneInfo,
                 measures: dict[str, tuple[str, str]]) -> dict[str, int]:
    """The day's figures counted the slow way: every audit entry, its local date, its entity's site."""
    with db.session() as s:
        apps = {str(a.id): a.site for a in s.query(Application)}
        cards = {str(c.id): apps[str(c.application_id)] for c in s.query(Card)}
        events = list(s.query(AuditEvent))
    where: dict[str, dict[str, str]] = {"application": apps, "card": cards}
    totals = dict.fromkeys(measures, 0)
    for e in events:
        local = dt.datetime.strptime(e.ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).astimezone(tz)
        if local.date() != day or where.get(e.entity_type, {}).get(e.entity_id) != site:
            continue
        for name, (action, source) in measures.items():
            if e.action == action and source in ("", e.from_state):
                totals[name] += 1
    return totals



@pytest.fixture(name="settings")
def amman_settings(database_url: str, tmp_path: Path) -> Settings:
    """The test's settings with reports' days in Asia/Amman (a module importing this overrides `settings`)."""
    return replace(Settings(), data_dir=tmp_path / "var", database_url=database_url, timezone=TZ.key)


@pytest.fixture(name="day")
def day_of_activity(db: Database, monkeypatch: pytest.MonkeyPatch) -> Day:
    """The day of activity, built in the test's database."""
    return build_day(db, monkeypatch)
