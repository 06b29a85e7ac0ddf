"""Renewals and replacements through validation: linked to the old card, which is revoked when it must be."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from issuance.applications import open_application, submit
from issuance.delivery import Handover, hand_over
from issuance.lifecycle import RevocationCause
from issuance.models import Application, ApplicationKind, AuditEvent, Card, ReplacementReason, User
from issuance.review import resolve_exception
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from issuance.successors import successors
from issuance.transitions import Actor
from tests.factories import add_passed_photo
from tests.lifecycle.conftest import (
    People,
    active_cards,
    advance,
    card_state,
    dispatched,
    revoked,
    signature_png,
)
from workers.validation import validate


def _successor(rt: Runtime, clerk: User, card_id: int, kind: ApplicationKind,
               reason: ReplacementReason | None = None) -> int:
    """A renewal or replacement enrolled at the counter for the old card's holder, submitted."""
    with rt.db.transaction() as s:
        old = s.get_one(Card, card_id)
        person = old.application.applicant.person
        app = open_application(s, person, clerk, kind=kind, replacement_reason=reason,
                               replaces_document_number=old.document_number)
        app_id = app.id
    add_passed_photo(rt.db, rt.vault, [app_id])
    with rt.db.transaction() as s:
        submit(s, app_id, Actor(clerk.username))
    return app_id


def _outcome(rt: Runtime, app_id: int) -> tuple[str, list[str]]:
    with rt.db.session() as s:
        app = s.get_one(Application, app_id)
        return str(app.state), [r["code"] for r in app.outcome_reasons or []]


def _deliver(rt: Runtime, people: People, app_id: int) -> int:
    ten_years = dt.date.today() + dt.timedelta(days=3650)
    [card_id] = advance(rt, [app_id], ten_years, start=ApplicationState.APPROVED)
    dispatched(rt, [card_id], people.sup)
    with rt.db.transaction() as s:
        number = s.get_one(Application, app_id).number
        hand_over(s, rt.vault, Handover(str(number), "old_card", "T1", signature_png()), people.sup)
    return card_id


@pytest.mark.parametrize("reason", [ReplacementReason.LOST, ReplacementReason.STOLEN])
def test_replacement_for_a_loss_revokes_the_old_card_when_approved(vruntime: Runtime, people: People,
                                                                  reason: ReplacementReason) -> None:
    old, = active_cards(vruntime, people, 1)
    app_id = _successor(vruntime, people.clerk, old, ApplicationKind.REPLACEMENT, reason)
    assert card_state(vruntime, old)[0] == "active"  # enrolled, not yet checked: nothing revoked
    validate(vruntime, [app_id])
    assert _outcome(vruntime, app_id) == ("approved", [])
    with vruntime.db.session() as s:
        card = s.get_one(Card, old)
        assert (card.state, card.status_reason) == ("revoked", str(reason))
        entry = s.scalars(select(AuditEvent).where(AuditEvent.action == "card.revoked",
                                                   AuditEvent.entity_id == str(old))).one()
        number = s.get_one(Application, app_id).number
        assert json.loads(entry.details)["replaced_by"] == number and entry.actor == "validator"
        assert [a.id for a in successors(s, card)] == [app_id]
    _deliver(vruntime, people, app_id)  # the new card's hand-over finds the old one revoked already
    assert card_state(vruntime, old)[0] == "revoked"


def test_a_card_reported_stolen_first_can_still_be_replaced(vruntime: Runtime, people: People) -> None:
    old, = active_cards(vruntime, people, 1)
    revoked(vruntime, old, people.sup, RevocationCause.STOLEN)
    theft = _successor(vruntime, people.clerk, old, ApplicationKind.REPLACEMENT, ReplacementReason.STOLEN)
    validate(vruntime, [theft])
    assert _outcome(vruntime, theft) == ("approved", [])


def test_a_revoked_damaged_card_is_not_replaceable_as_lost(vruntime: Runtime, people: People) -> None:
    old, = active_cards(vruntime, people, 1)
    revoked(vruntime, old, people.sup, RevocationCause.DAMAGED)
    lost = _successor(vruntime, people.clerk, old, ApplicationKind.REPLACEMENT, ReplacementReason.LOST)
    validate(vruntime, [lost])
    assert _outcome(vruntime, lost) == ("rejected", ["OLD_CARD_UNKNOWN"])


def test_damaged_replacement_supersedes_the_old_card_at_hand_over(vruntime: Runtime, people: People) -> None:
    old, = active_cards(vruntime, people, 1)
    app_id = _successor(vruntime, people.clerk, old, ApplicationKind.REPLACEMENT, ReplacementReason.DAMAGED)
    validate(vruntime, [app_id])
    assert _outcome(vruntime, app_id) == ("approved", []) and card_state(vruntime, old)[0] == "active"
    new = _deliver(vruntime, people, app_id)
    assert card_state(vruntime, new) == ("issued", "delivered")
    with vruntime.db.session() as s:
        assert s.get_one(Card, old).status_reason == "superseded"


def test_renewal_near_expiry_or_expired_and_not_too_early(vruntime: Runtime, people: People) -> None:
    today = dt.date.today()
    far, = active_cards(vruntime, people, 1, expires_on=today + dt.timedelta(days=2000))
    near, = active_cards(vruntime, people, 1, skip=1, expires_on=today + dt.timedelta(days=90))
    gone, = active_cards(vruntime, people, 1, skip=2, expires_on=today + dt.timedelta(days=90))
    with vruntime.db.transaction() as s:
        s.execute(update(Card).where(Card.id == gone).values(state="expired"))
    early, soon, late = (_successor(vruntime, people.clerk, c, ApplicationKind.RENEWAL)
                         for c in (far, near, gone))
    validate(vruntime, [early, soon, late])
    assert _outcome(vruntime, early) == ("rejected", ["RENEWAL_TOO_EARLY"])
    assert _outcome(vruntime, soon) == _outcome(vruntime, late) == ("approved", [])
    assert card_state(vruntime, near)[0] == "active"  # the old card serves until the new one is handed over
    _deliver(vruntime, people, soon)
    with vruntime.db.session() as s:
        assert (s.get_one(Card, near).state, s.get_one(Card, near).status_reason) == ("revoked", "superseded")
    _deliver(vruntime, people, late)
    assert card_state(vruntime, gone)[0] == "expired"  # nothing left to retire


def test_a_supervisor_approving_a_held_replacement_revokes_too(vruntime: Runtime, people: People) -> None:
    old, = active_cards(vruntime, people, 1)
    app_id = _successor(vruntime, people.clerk, old, ApplicationKind.REPLACEMENT, ReplacementReason.LOST)
    with vruntime.db.transaction() as s:
        s.execute(update(Application).where(Application.id == app_id).values(state="exception"))
    with vruntime.db.transaction() as s:
        assert resolve_exception(s, app_id, people.sup, approve=True, reason="registry photo is old")
    assert card_state(vruntime, old)[0] == "revoked"


def test_another_citizens_card_is_never_revoked(vruntime: Runtime, people: People) -> None:
    mine, theirs = active_cards(vruntime, people, 2)
    app_id = _successor(vruntime, people.clerk, mine, ApplicationKind.REPLACEMENT, ReplacementReason.LOST)
    with vruntime.db.transaction() as s:  # a typo names someone else's card
        other = s.get_one(Card, theirs).document_number
        s.execute(update(Application).where(Application.id == app_id).values(replaces_document_number=other))
    validate(vruntime, [app_id])
    assert _outcome(vruntime, app_id) == ("rejected", ["OLD_CARD_UNKNOWN"])
    assert card_state(vruntime, theirs)[0] == card_state(vruntime, mine)[0] == "active"
