"""The print stage through the queue: folder printer, refusals, reprints (four eyes), retries, reconciler."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance import reprints
from issuance.biometrics import ImageMeta, store_biometric
from issuance.db import Database
from issuance.models import (
    AuditEvent,
    BiometricKind,
    Card,
    PrintAttempt,
    PrintAttemptState,
    ReprintState,
    Role,
    User,
    utcnow,
)
from issuance.roles import PermissionDenied
from issuance.runtime import Runtime
from issuance.states import CardState
from printing.service import MAX_ATTEMPTS
from tests.factories import make_user
from tests.printing.print_cards import add_folder_printer, card_state, make_card, run_queue
from workers import print_stage
from workers.print_jobs import enqueue_printing
from workers.queues import open_queue
from workers.reconciler import reconcile_printing


def audit_actions(s: Session, card_id: int) -> list[str]:
    return [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_id == str(card_id)))]


def attempts(db: Database, card_id: int) -> list[PrintAttempt]:
    with db.session() as s:
        return list(s.scalars(select(PrintAttempt).where(PrintAttempt.card_id == card_id)
                              .order_by(PrintAttempt.number)))


def test_locked_card_printed_once_through_the_queue(db: Database, prt: Runtime, clerk: User,
                                                    tmp_path: Path) -> None:
    add_folder_printer(db, tmp_path / "cards")
    card_id = make_card(db, prt, clerk, seed=3)
    jobs = open_queue(prt.settings)
    assert enqueue_printing(prt, jobs, [card_id]) == [card_id]
    assert enqueue_printing(prt, jobs, [card_id]) == []  # the mark is a compare-and-set
    run_queue(prt)
    # Printed, and the automatic check on the rendered back passed (tesseract, seal, DG1).
    assert card_state(db, card_id) == ("printed", "quality_checked")
    with db.session() as s:
        card = s.get_one(Card, card_id)
        number = card.application.number
        actions = audit_actions(s, card_id)
    folder = tmp_path / "cards" / str(number)
    assert {p.name for p in folder.iterdir()} >= {"front.png", "back.png", "card.pdf"}
    assert "card.printed" in actions and "print.printed" in actions
    # A second job for the same card prints nothing: no reprint record.
    assert enqueue_printing(prt, jobs, [card_id], unless_since=utcnow()) == [card_id]
    run_queue(prt)
    assert [a.state for a in attempts(db, card_id)] == [PrintAttemptState.COMPLETED]
    assert sorted(p.name for p in (tmp_path / "cards").iterdir()) == [str(number)]
    result = print_stage.print_one(prt, print_stage.print_tools(prt), card_id)
    assert result.step == "refused" and "reprint" in result.detail


@pytest.mark.parametrize("state", [CardState.ENCODED, CardState.VERIFIED])
def test_never_printed_without_a_verified_locked_chip(db: Database, prt: Runtime, clerk: User,
                                                      tmp_path: Path, state: CardState) -> None:
    add_folder_printer(db, tmp_path / "cards")
    card_id = make_card(db, prt, clerk, seed=4, to=state)
    assert enqueue_printing(prt, open_queue(prt.settings), [card_id]) == []
    result = print_stage.print_one(prt, print_stage.print_tools(prt), card_id)
    assert result.step == "refused" and "locked" in result.detail
    assert attempts(db, card_id) == [] and not (tmp_path / "cards").exists()


def test_reprint_needs_a_reason_and_a_second_supervisor(db: Database, prt: Runtime, clerk: User,
                                                        tmp_path: Path) -> None:
    add_folder_printer(db, tmp_path / "cards")
    card_id = make_card(db, prt, clerk, seed=5)
    jobs = open_queue(prt.settings)
    enqueue_printing(prt, jobs, [card_id])
    run_queue(prt)
    boss = make_user(db, "boss", Role.SUPERVISOR)
    other = make_user(db, "other", Role.SUPERVISOR)
    operator = make_user(db, "op", Role.OPERATOR)
    with db.transaction() as s:
        card = s.get_one(Card, card_id)
        with pytest.raises(PermissionDenied):
            reprints.request_by_user(s, card, "smudged", s.get_one(User, clerk.id))
        with pytest.raises(reprints.ReprintError, match="reason"):
            reprints.request_by_user(s, card, "  ", s.get_one(User, operator.id))
        reprints.request_by_user(s, card, "ribbon smudged the photo", s.get_one(User, boss.id))
    # Requested but not approved: still nothing to print.
    assert print_stage.print_one(prt, print_stage.print_tools(prt), card_id).step == "refused"
    with db.transaction() as s:
        card = s.get_one(Card, card_id)
        with pytest.raises(reprints.FourEyesReprint):
            reprints.approve_reprint(s, card, s.get_one(User, boss.id))
        with pytest.raises(PermissionDenied):
            reprints.approve_reprint(s, card, s.get_one(User, operator.id))
        reprints.approve_reprint(s, card, s.get_one(User, other.id))
    enqueue_printing(prt, jobs, [card_id], unless_since=utcnow())
    run_queue(prt)
    done = attempts(db, card_id)
    assert [(a.number, a.state, a.reprint_id is not None) for a in done] == [
        (1, PrintAttemptState.COMPLETED, False), (2, PrintAttemptState.COMPLETED, True)]
    with db.session() as s:
        request = s.scalars(select(reprints.ReprintRequest)).one()
        assert (request.state, request.requested_by, request.approved_by) == (
            ReprintState.USED, "boss", "other")
        actions = audit_actions(s, card_id)
    assert {"reprint.requested", "reprint.approved", "reprint.used"} <= set(actions)
    assert (tmp_path / "cards" / f"{done[1].job_name}" / "card.pdf").is_file()
    # The request is used up: a third print needs another one.
    assert print_stage.print_one(prt, print_stage.print_tools(prt), card_id).step == "refused"


def test_failing_printer_backs_off_then_goes_to_a_person(db: Database, prt: Runtime, clerk: User,
                                                         tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the spool folder should be")
    add_folder_printer(db, blocker / "spool")
    card_id = make_card(db, prt, clerk, seed=6)
    tools = print_stage.print_tools(prt)
    now = utcnow()
    first = print_stage.print_one(prt, tools, card_id, now=now)
    assert first.step == "resubmit"
    assert card_state(db, card_id) == ("locked", "printing")
    # Within the backoff nothing is tried, and the reconciler leaves the card alone.
    assert print_stage.print_one(prt, tools, card_id, now=now + dt.timedelta(seconds=5)).step == "held"
    assert reconcile_printing(prt, open_queue(prt.settings), now=now + dt.timedelta(seconds=5)) == []
    for _ in range(2, MAX_ATTEMPTS + 1):
        now += dt.timedelta(hours=1)
        result = print_stage.print_one(prt, tools, card_id, now=now)
    assert result.step == "to_person"
    later = now + dt.timedelta(days=1)
    held = print_stage.print_one(prt, tools, card_id, now=later)
    assert held.step == "held" and "failed attempts" in held.detail
    assert reconcile_printing(prt, open_queue(prt.settings), now=later) == []
    assert len(attempts(db, card_id)) == MAX_ATTEMPTS
    assert card_state(db, card_id) == ("locked", "printing")


def test_reconciler_enqueues_a_lost_print_once(db: Database, prt: Runtime, clerk: User,
                                               tmp_path: Path) -> None:
    add_folder_printer(db, tmp_path / "cards")
    card_id = make_card(db, prt, clerk, seed=7)
    jobs = open_queue(prt.settings)
    assert reconcile_printing(prt, jobs) == [card_id]
    assert reconcile_printing(prt, jobs) == []  # its job waits in the queue: never doubled
    jobs.connection.flushall()  # Redis lost it
    assert reconcile_printing(prt, jobs, now=utcnow() + dt.timedelta(minutes=10)) == [card_id]
    run_queue(prt)
    assert card_state(db, card_id)[0] == "printed"
    assert reconcile_printing(prt, jobs, now=utcnow() + dt.timedelta(hours=1)) == []


def test_interrupted_submission_goes_to_a_person_never_printed_twice(db: Database, prt: Runtime, clerk: User,
                                                                     tmp_path: Path) -> None:
    add_folder_printer(db, tmp_path / "cards")
    card_id = make_card(db, prt, clerk, seed=8)
    now = utcnow()
    # A worker recorded its attempt and died before the spooler answered.
    assert isinstance(print_stage.claim(prt, card_id, now), print_stage.Claim)
    tools = print_stage.print_tools(prt)
    assert print_stage.print_one(prt, tools, card_id, now=now).step == "busy"
    later = now + dt.timedelta(seconds=prt.settings.lease_seconds + 1)
    assert print_stage.print_one(prt, tools, card_id, now=later).step == "to_person"
    held = print_stage.print_one(prt, tools, card_id, now=later + dt.timedelta(days=1))
    assert held.step == "held" and "interrupted" in held.detail
    assert [a.state for a in attempts(db, card_id)] == [PrintAttemptState.INTERRUPTED]
    assert not (tmp_path / "cards").exists()


def test_unrenderable_card_fails_before_the_spooler(db: Database, prt: Runtime, clerk: User,
                                                    tmp_path: Path) -> None:
    add_folder_printer(db, tmp_path / "cards")
    card_id = make_card(db, prt, clerk, seed=9)
    with db.transaction() as s:
        app_id = s.get_one(Card, card_id).application_id
        store_biometric(s, prt.vault, app_id, BiometricKind.PHOTO, b"\xff\xd8 not a JPEG",
                        ImageMeta("image/jpeg", 10, 10), "test")
    result = print_stage.print_one(prt, print_stage.print_tools(prt), card_id)
    assert result.step == "resubmit"
    [failed] = attempts(db, card_id)
    assert failed.state == PrintAttemptState.FAILED and failed.reason
    assert not (tmp_path / "cards").exists() and card_state(db, card_id) == ("locked", "printing")
    assert print_stage.print_one(prt, print_stage.print_tools(prt), 10**6).step == "refused"
