"""A production floor for the dashboard tests: applications in mixed states at two sites, over 30 days.

Every state change goes through `transitions.py` (so the audit log holds each transition); the
audit clock and the transitions' clock are set per cohort, so the events spread over hours and days.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from issuance import audit, transitions
from issuance.applications import open_application
from issuance.db import Database
from issuance.demo import population
from issuance.equipment import add_printer, add_station
from issuance.models import (
    Application,
    Batch,
    Card,
    PrintAttempt,
    PrintAttemptState,
    Role,
    User,
    utcnow,
)
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, allocate_card, move_many
from tests.factories import make_user

A, C = ApplicationState, CardState
MAIN_PATH = [A.SUBMITTED, A.VALIDATING, A.APPROVED, A.BATCHED, A.PERSONALIZING, A.PERSONALIZED,
             A.PRINTING, A.PRINTED, A.QUALITY_CHECKED, A.DISPATCHED, A.DELIVERED]
# Where each application ends; drafts, exceptions and rejections branch off the main path.
TARGETS = [A.DRAFT, A.SUBMITTED, A.VALIDATING, A.EXCEPTION, A.REJECTED, *MAIN_PATH[2:]]
# The card a live application holds at each state of production.
CARD_FOR = {A.PERSONALIZING: C.ENCODING, A.PERSONALIZED: C.LOCKED, A.PRINTING: C.LOCKED,
            A.PRINTED: C.PRINTED, A.QUALITY_CHECKED: C.PRINTED, A.DISPATCHED: C.PRINTED,
            A.DELIVERED: C.ISSUED}
CARD_PATH = [C.ENCODING, C.ENCODED, C.VERIFIED, C.LOCKED, C.PRINTED, C.ISSUED]
SITES = ("HQ", "EAST")
COHORT = 12


@dataclass
class Floor:
    """What was built: users per site, and the clock the cohorts used."""

    now: dt.datetime
    supervisors: dict[str, str] = field(default_factory=dict)
    clerks: dict[str, User] = field(default_factory=dict)


def _path_to(target: ApplicationState) -> list[ApplicationState]:
    if target is A.DRAFT:
        return []
    if target in (A.EXCEPTION, A.REJECTED):
        return [A.SUBMITTED, A.VALIDATING, target]
    return MAIN_PATH[: MAIN_PATH.index(target) + 1]


@contextmanager
def clock(monkeypatch: pytest.MonkeyPatch, at: dt.datetime) -> Iterator[None]:
    """Audit entries and transitions stamped `at`, as if the work happened then."""
    with monkeypatch.context() as m:
        m.setattr(audit, "_timestamp", lambda now=None: at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        m.setattr(transitions, "utcnow", lambda: at)
        yield


def _walk(s: Session, ids_by_target: dict[int, ApplicationState], actor: Actor, batch: Batch) -> None:
    for step in MAIN_PATH + [A.EXCEPTION, A.REJECTED]:
        ids = sorted(i for i, t in ids_by_target.items() if step in _path_to(t))
        if not ids:
            continue
        previous = A.VALIDATING if step in (A.EXCEPTION, A.REJECTED) else MAIN_PATH[MAIN_PATH.index(step) - 1]
        values: dict[int, dict[str, object]] = {}
        if step is A.SUBMITTED:
            values = {i: {"submitted_at": transitions.utcnow()} for i in ids}
        elif step is A.BATCHED:
            values = {i: {"batch_id": batch.id} for i in ids}
        elif step is A.EXCEPTION:
            values = {i: {"outcome_reasons": [{"code": "NAME_MISMATCH" if i % 2 else "REGISTRY_ERROR"}]}
                      for i in ids}
        first = previous if step is not A.SUBMITTED else A.DRAFT
        moved = move_many(s, Application, ids, step, actor, expected=first, values=values)
        assert moved == ids


def _cards(s: Session, ids_by_target: dict[int, ApplicationState], actor: Actor, station_id: int,
           spoil: Callable[[int], bool]) -> None:
    making = {i: CARD_FOR[t] for i, t in sorted(ids_by_target.items()) if t in CARD_FOR}
    bad = [allocate_card(s, i, actor, station_id).id for i in making if spoil(i)]
    why = {"failure_step": "write_dg2", "failure_status_word": "6A84", "status_reason": "not enough memory"}
    move_many(s, Card, bad, C.SPOILED, actor, expected=C.ALLOCATED, values={c: why for c in bad})
    cards = {allocate_card(s, i, actor, station_id).id: target for i, target in making.items()}
    previous = C.ALLOCATED
    for state in CARD_PATH:
        ids = [c for c, target in cards.items() if CARD_PATH.index(target) >= CARD_PATH.index(state)]
        move_many(s, Card, ids, state, actor, expected=previous)
        previous = state
    s.add_all(PrintAttempt(card_id=c, number=1, printer=f"P-{actor.site}", job_name=f"j{c}",
                           state=PrintAttemptState.COMPLETED, updated_at=transitions.utcnow())
              for c, target in cards.items() if target in (C.PRINTED, C.ISSUED))


def _equipment(db: Database, site: str) -> tuple[int, int]:
    with db.transaction() as s:
        station = add_station(s, f"S-{site}", site, "virtual", actor="test")
        printer = add_printer(s, f"P-{site}", site, "folder", "spool-never-written", actor="test")
        return station.id, printer.id


def build(db: Database, monkeypatch: pytest.MonkeyPatch, per_site: int = 150, seed: int = 7) -> Floor:
    """`per_site` applications at each of two sites, each cohort's work stamped hours to days ago."""
    floor = Floor(now=utcnow())
    rng = random.Random(seed)
    for n, site in enumerate(SITES):
        floor.clerks[site] = make_user(db, f"clerk-{site.lower()}", Role.CLERK, site)
        floor.supervisors[site] = make_user(db, f"boss-{site.lower()}", Role.SUPERVISOR, site).username
        station_id, printer_id = _equipment(db, site)
        citizens = population.generate(per_site, seed=seed + n)
        for start in range(0, per_site, COHORT):
            at = floor.now - dt.timedelta(hours=rng.randrange(0, 30 * 24), minutes=rng.randrange(60))
            _cohort(db, monkeypatch, floor.clerks[site], citizens[start:start + COHORT], at,
                    rng, station_id, printer_id)
    return floor


def _cohort(db: Database, monkeypatch: pytest.MonkeyPatch, clerk: User, citizens: list[population.Citizen],
            at: dt.datetime, rng: random.Random, station_id: int, printer_id: int) -> None:
    actor = Actor(clerk.username, clerk.site)
    with clock(monkeypatch, at), db.transaction() as s:
        batch = Batch(number=f"{clerk.site}-B{rng.randrange(10**9):09d}", site=clerk.site,
                      printer_id=printer_id, created_by=clerk.username)
        s.add(batch)
        s.flush()
        ids = {open_application(s, c, clerk).id: rng.choice(TARGETS) for c in citizens}
        _walk(s, ids, actor, batch)
        _cards(s, ids, actor, station_id, spoil=lambda i: i % 5 == 0)
        s.execute(update(Application).where(Application.id.in_(list(ids))).values(updated_at=at))
