"""The life cycles: every legal move works with its audit entry; every illegal one is refused."""

from __future__ import annotations

import subprocess
import sys
import threading
from itertools import product
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from issuance.db import Database
from issuance.models import Application, AuditEvent, Card, User
from issuance.states import APPLICATION_MOVES, CARD_MOVES, ApplicationState, CardState
from issuance.transitions import (
    Actor,
    CardAllocationError,
    IllegalTransition,
    allocate_card,
    move,
    move_many,
)
from tests.factories import application_state, make_applications

REPO = Path(__file__).resolve().parents[2]

ACTOR = Actor("worker-test", "HQ")
APP_EDGES = [(a, b) for a, targets in APPLICATION_MOVES.items() for b in sorted(targets)]
CARD_EDGES = [(a, b) for a, targets in CARD_MOVES.items() for b in sorted(targets)]


def _force(db: Database, model: type[Application] | type[Card], entity_id: int, state: str) -> None:
    # Test set-up only: put an entity straight into a state, bypassing the machine.
    with db.transaction() as s:
        s.execute(update(model).where(model.id == entity_id).values(state=state))


def _audit_for(db: Database, kind: str, entity_id: int) -> list[AuditEvent]:
    with db.session() as s:
        stmt = select(AuditEvent).where(
            AuditEvent.entity_type == kind, AuditEvent.entity_id == str(entity_id)
        )
        return list(s.scalars(stmt.order_by(AuditEvent.seq)))


def _new_card(db: Database, clerk: User) -> int:
    [app_id] = make_applications(db, clerk)
    with db.transaction() as s:
        return allocate_card(s, app_id, ACTOR).id


def test_application_starts_in_draft_with_number_and_audit(db: Database, clerk: User) -> None:
    [app_id] = make_applications(db, clerk)
    with db.session() as s:
        app = s.get_one(Application, app_id)
        assert app.state == ApplicationState.DRAFT
        assert app.number and app.number.startswith("HQ-")
    [created] = _audit_for(db, "application", app_id)
    assert (created.action, created.actor) == ("application.created", "clerk1")
    assert created.to_state == "draft"


@pytest.mark.parametrize(("current", "target"), APP_EDGES, ids=[f"{a}->{b}" for a, b in APP_EDGES])
def test_every_legal_application_move(db: Database, clerk: User, current: str, target: str) -> None:
    [app_id] = make_applications(db, clerk)
    _force(db, Application, app_id, current)
    with db.transaction() as s:
        assert move(s, Application, app_id, ApplicationState(target), ACTOR)
    assert application_state(db, app_id) == target
    last = _audit_for(db, "application", app_id)[-1]
    assert (last.from_state, last.to_state, last.actor) == (current, target, "worker-test")


@pytest.mark.parametrize(("current", "target"), CARD_EDGES, ids=[f"{a}->{b}" for a, b in CARD_EDGES])
def test_every_legal_card_move(db: Database, clerk: User, current: str, target: str) -> None:
    card_id = _new_card(db, clerk)
    _force(db, Card, card_id, current)
    with db.transaction() as s:
        assert move(s, Card, card_id, CardState(target), ACTOR, details={"station": "S1"})
    with db.session() as s:
        assert s.get_one(Card, card_id).state == target
    last = _audit_for(db, "card", card_id)[-1]
    assert (last.from_state, last.to_state) == (current, target)
    assert '"station": "S1"' in last.details


def test_every_illegal_application_move_is_refused(db: Database, clerk: User) -> None:
    [app_id] = make_applications(db, clerk)
    illegal = [
        (a, b) for a, b in product(ApplicationState, ApplicationState)
        if b not in APPLICATION_MOVES[a]
    ]
    assert len(illegal) > 150
    for current, target in illegal:
        _force(db, Application, app_id, current)
        before = len(_audit_for(db, "application", app_id))
        with pytest.raises(IllegalTransition) as err, db.transaction() as s:
            move(s, Application, app_id, target, ACTOR)
        assert f"from '{current}' to '{target}'" in str(err.value)
        assert application_state(db, app_id) == current
        assert len(_audit_for(db, "application", app_id)) == before


def test_every_illegal_card_move_is_refused(db: Database, clerk: User) -> None:
    card_id = _new_card(db, clerk)
    illegal = [(a, b) for a, b in product(CardState, CardState) if b not in CARD_MOVES[a]]
    for current, target in illegal:
        _force(db, Card, card_id, current)
        refused = pytest.raises(IllegalTransition, match=f"from '{current}' to '{target}'")
        with refused, db.transaction() as s:
            move(s, Card, card_id, target, ACTOR)
        with db.session() as s:
            assert s.get_one(Card, card_id).state == current


def test_stale_expected_state_is_a_no_op(db: Database, clerk: User) -> None:
    [app_id] = make_applications(db, clerk)
    _force(db, Application, app_id, "validating")
    with db.transaction() as s:
        assert move(s, Application, app_id, ApplicationState.APPROVED, ACTOR,
                    expected=ApplicationState.VALIDATING)
    with db.transaction() as s:
        # A second worker with the same stale view: nothing happens, no second audit entry.
        assert not move(s, Application, app_id, ApplicationState.APPROVED, ACTOR,
                        expected=ApplicationState.VALIDATING)
    outcomes = [e for e in _audit_for(db, "application", app_id) if e.to_state == "approved"]
    assert len(outcomes) == 1


def test_move_sets_extra_values_in_the_same_update(db: Database, clerk: User) -> None:
    ids = make_applications(db, clerk, 3)
    for app_id in ids:
        _force(db, Application, app_id, "validating")
    with db.transaction() as s:
        moved = move_many(
            s, Application, ids, ApplicationState.EXCEPTION, ACTOR,
            expected=ApplicationState.VALIDATING,
            values={i: {"outcome_reasons": [{"code": "NAME_FUZZY", "id": i}]} for i in ids},
        )
    assert moved == sorted(ids)
    with db.session() as s:
        for app_id in ids:
            reasons = s.get_one(Application, app_id).outcome_reasons
            assert reasons == [{"code": "NAME_FUZZY", "id": app_id}]


def test_racing_workers_produce_one_effect_and_one_audit_entry(db: Database, clerk: User) -> None:
    ids = make_applications(db, clerk, 12)
    for app_id in ids:
        _force(db, Application, app_id, "validating")
    wins: list[int] = []
    errors: list[BaseException] = []

    def worker(name: str, target: ApplicationState, gate: threading.Barrier, app_id: int) -> None:
        try:
            gate.wait()
            with db.transaction() as s:
                if move(s, Application, app_id, target, Actor(name),
                        expected=ApplicationState.VALIDATING):
                    wins.append(app_id)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    for app_id in ids:
        gate = threading.Barrier(2)
        threads = [
            threading.Thread(target=worker, args=("w1", ApplicationState.APPROVED, gate, app_id)),
            threading.Thread(target=worker, args=("w2", ApplicationState.REJECTED, gate, app_id)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert sorted(wins) == sorted(ids)
    for app_id in ids:
        events = _audit_for(db, "application", app_id)
        outcomes = [e for e in events if e.from_state == "validating"]
        assert len(outcomes) == 1
        assert application_state(db, app_id) == outcomes[0].to_state


def test_database_refuses_a_second_issued_card(db: Database, clerk: User) -> None:
    card_id = _new_card(db, clerk)
    _force(db, Card, card_id, "issued")
    with db.session() as s:
        app_id = s.get_one(Card, card_id).application_id
    # Straight SQL, past every check in the code: the unique index itself must refuse it.
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.execute(
            text("INSERT INTO cards (application_id, attempt, state, created_at, updated_at) "
                 "VALUES (:a, 2, 'issued', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"a": app_id},
        )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Card)) == 1


def test_new_attempt_only_after_the_live_card_is_spoiled(db: Database, clerk: User) -> None:
    card_id = _new_card(db, clerk)
    with db.session() as s:
        app_id = s.get_one(Card, card_id).application_id
    with pytest.raises(CardAllocationError, match="live card"), db.transaction() as s:
        allocate_card(s, app_id, ACTOR)
    with db.transaction() as s:
        move(s, Card, card_id, CardState.SPOILED, ACTOR, values={"failure_step": "write_dg2"})
    with db.transaction() as s:
        second = allocate_card(s, app_id, ACTOR)
    assert second.attempt == 2


def test_move_many_refuses_to_write_state_as_a_value(db: Database, clerk: User) -> None:
    [app_id] = make_applications(db, clerk)
    with pytest.raises(ValueError, match="'state' is set only by the transition"), db.transaction() as s:
        move_many(s, Application, [app_id], ApplicationState.SUBMITTED, Actor("t"),
                  expected=ApplicationState.DRAFT, values={app_id: {"state": ApplicationState.APPROVED}})
    assert application_state(db, app_id) == "draft"


def test_not_postgres_deselects_every_postgresql_case() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:xdist", "-m", "not postgres",
         "tests/core/test_transitions.py"], cwd=REPO, capture_output=True, text=True, timeout=120)
    collected = [line for line in out.stdout.splitlines() if "::" in line]
    assert collected and not [line for line in collected if "[postgresql" in line]
