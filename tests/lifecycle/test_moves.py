"""Every move of the card's life after printing, and its refusals, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from issuance import audit
from issuance.batches import create_batch
from issuance.delivery import FaceCheck, Handover, delivery_signature, hand_over, receipt_number
from issuance.equipment import add_printer, add_station
from issuance.lifecycle import (
    LifecycleError,
    RevocationCause,
    SamePerson,
    WrongState,
    activate,
    batch_cards,
    card_by_document,
    dispatch,
    due_for_renewal,
    expire_cards,
    find_card,
    history,
    next_moves,
    resume,
    search_cards,
    suspend,
)
from issuance.models import Application, Card, CardDelivery, Revocation, User
from issuance.reprints import request_reprint
from issuance.roles import PermissionDenied
from issuance.runtime import Runtime
from issuance.sites import ensure_site
from issuance.transitions import Actor, NotFound
from issuance.transitions import application_number as number_of
from tests.lifecycle.conftest import (
    People,
    active_cards,
    application_number,
    audit_actions,
    card_state,
    dispatched,
    eligible,
    issued_cards,
    printed_cards,
    revoked,
    signature_png,
)


def _handover(rt: Runtime, card_id: int, people: People, user: User | None = None,
              **kw: object) -> CardDelivery:
    fields: dict[str, object] = {"receipt": application_number(rt, card_id), "document_kind": "passport",
                                 "document_number": "N1234567", "signature_png": signature_png(), **kw}
    with rt.db.transaction() as s:
        return hand_over(s, rt.vault, Handover(**fields), user or people.sup)  # type: ignore[arg-type]


def _refused(rt: Runtime, exc: type[BaseException], rule: str | None = None, **kw: object) -> BaseException:
    with pytest.raises(exc) as caught:
        _handover(rt, **kw)  # type: ignore[arg-type]
    if rule is not None:
        assert isinstance(caught.value, LifecycleError) and caught.value.rule == rule, caught.value
    return caught.value


def test_dispatch_checks_visually_then_dispatches_all_or_none(vruntime: Runtime, people: People) -> None:
    first, second, third = printed_cards(vruntime, people.clerk, eligible(3))
    with vruntime.db.transaction() as s:  # the automatic check passed for one of them
        app = s.get_one(Card, second).application_id
        s.execute(update(Application).where(Application.id == app).values(state="quality_checked"))
    with vruntime.db.transaction() as s:
        request_reprint(s, s.get_one(Card, third), "smudged photo", "op1")
    with pytest.raises(WrongState, match="reprint is pending"), vruntime.db.transaction() as s:
        dispatch(s, [first, second, third], "HQ", people.sup)
    assert card_state(vruntime, first) == ("printed", "printed")  # nothing moved
    with pytest.raises(LifecycleError, match="office") as bad_office, vruntime.db.transaction() as s:
        dispatch(s, [first], "NOWHERE", people.sup)
    assert bad_office.value.field == "office"
    with vruntime.db.transaction() as s:
        ensure_site(s, "EAST", actor="test")
        assert dispatch(s, [first, second, first], "east", people.sup) == [first, second]
    for card_id in (first, second):
        assert card_state(vruntime, card_id) == ("printed", "dispatched")
    with vruntime.db.session() as s:
        card = s.get_one(Card, first)
        assert card.collection_office == "EAST" and card.dispatched_at is not None
        steps = [(e.action, e.details) for e in history(s, card) if e.action.startswith("application.")]
    assert ("application.quality_checked", '{"by": "sup1", "check": "visual"}') in steps
    with pytest.raises(WrongState), vruntime.db.transaction() as s:
        dispatch(s, [first], "HQ", people.sup)


def test_dispatch_a_batch_and_scope(vruntime: Runtime, people: People) -> None:
    ids = printed_cards(vruntime, people.clerk, eligible(3))
    with vruntime.db.transaction() as s:
        s.execute(update(Application).where(Application.state == "printed").values(state="approved",
                                                                                   batch_id=None))
        add_station(s, "S1", "HQ", "", actor="test")
        add_printer(s, "P1", "HQ", "folder", "/nonexistent", actor="test")
        batch = create_batch(s, "HQ", Actor("sup1", "HQ"))
        assert batch is not None
        number = batch.number
        s.execute(update(Application).where(Application.batch_id == batch.id).values(state="printed"))
    with vruntime.db.session() as s:
        assert batch_cards(s, number, people.sup) == ids
        with pytest.raises(NotFound):
            batch_cards(s, number, people.north)
        with pytest.raises(NotFound):
            batch_cards(s, "B-NOPE", people.sup)
    with pytest.raises(NotFound), vruntime.db.transaction() as s:  # another site's cards are missing
        dispatch(s, ids, "NORTH", people.north)
    with pytest.raises(PermissionDenied), vruntime.db.transaction() as s:
        dispatch(s, ids, "HQ", people.operator)
    with pytest.raises(LifecycleError, match="1 to"), vruntime.db.transaction() as s:
        dispatch(s, [], "HQ", people.sup)
    dispatched(vruntime, ids, people.sup, "NORTH")
    with vruntime.db.session() as s:  # the collection office's supervisor now sees them, scoped
        assert {c.id for c in search_cards(s, people.north, "")} == set(ids)
        assert search_cards(s, people.north, "T99999999") == []
        with pytest.raises(PermissionDenied):  # admins run the system, not the cards' lives
            find_card(s, ids[0], people.admin)


def test_hand_over_records_evidence_and_refuses_what_it_must(vruntime: Runtime, people: People) -> None:
    card_id, other = printed_cards(vruntime, people.clerk, eligible(2))
    _refused(vruntime, WrongState, "state", card_id=card_id, people=people)  # not dispatched yet
    dispatched(vruntime, [card_id, other], people.sup, "HQ")
    number = application_number(vruntime, card_id)
    _refused(vruntime, LifecycleError, "format", card_id=card_id, people=people, receipt="hello")
    wrong_digit = number[:-1] + str((int(number[-1]) + 1) % 10)
    _refused(vruntime, LifecycleError, "check_digit", card_id=card_id, people=people, receipt=wrong_digit)
    _refused(vruntime, NotFound, card_id=card_id, people=people, receipt=number_of("HQ", 999999999))
    _refused(vruntime, LifecycleError, "choice", card_id=card_id, people=people, document_kind="library")
    _refused(vruntime, LifecycleError, "format", card_id=card_id, people=people, document_number="<>")
    _refused(vruntime, LifecycleError, "required", card_id=card_id, people=people, signature_png=b"")
    _refused(vruntime, LifecycleError, "image", card_id=card_id, people=people, signature_png=b"GIF89a")
    _refused(vruntime, LifecycleError, "face_mismatch", card_id=card_id, people=people,
             face=FaceCheck(0.71, 0.6))
    _refused(vruntime, NotFound, card_id=card_id, people=people, user=people.north)
    _refused(vruntime, PermissionDenied, card_id=card_id, people=people, user=people.clerk)
    assert card_state(vruntime, card_id) == ("printed", "dispatched")

    scanned = f"  {number.lower()}\r\n"  # a scanner's line ending, typed in lower case
    delivery = _handover(vruntime, card_id, people, receipt=scanned, face=FaceCheck(0.31, 0.6))
    assert card_state(vruntime, card_id) == ("issued", "delivered")
    with vruntime.db.session() as s:
        row = s.get_one(CardDelivery, card_id)
        assert (row.handed_over_by, row.receipt_number, row.identity_document) == (
            "sup1", number, "passport:N1234567")
        assert (row.face_distance, row.face_matched) == (0.31, True)
        assert row.signature is not None and signature_png() not in row.signature
        assert delivery_signature(s, vruntime.vault, card_id) == signature_png()
        assert s.get_one(Card, card_id).handed_over_at is not None
        assert audit.verify(s).ok
    assert delivery.card_id == card_id
    _refused(vruntime, WrongState, "state", card_id=card_id, people=people)  # only once


def test_hand_over_four_eyes_and_the_collection_office(vruntime: Runtime, people: People) -> None:
    clerk_enrolled, elsewhere = printed_cards(vruntime, people.sup, eligible(2))  # a supervisor enrolled
    dispatched(vruntime, [clerk_enrolled], people.sup2, "HQ")
    dispatched(vruntime, [elsewhere], people.sup2, "NORTH")
    _refused(vruntime, SamePerson, card_id=clerk_enrolled, people=people)
    _handover(vruntime, clerk_enrolled, people, user=people.sup2)
    # HQ issued it, but it waits at NORTH: handed over there only.
    _refused(vruntime, WrongState, "state", card_id=elsewhere, people=people, user=people.sup2)
    _handover(vruntime, elsewhere, people, user=people.north)
    assert card_state(vruntime, elsewhere) == ("issued", "delivered")


def test_activate_suspend_resume_with_four_eyes(vruntime: Runtime, people: People) -> None:
    card_id, = issued_cards(vruntime, people, 1)
    with vruntime.db.session() as s:
        assert next_moves(s.get_one(Card, card_id)) == ["activate", "revoke"]
    with pytest.raises(WrongState), vruntime.db.transaction() as s:
        suspend(s, card_id, people.sup, "holder asked")
    with vruntime.db.transaction() as s:
        card = activate(s, card_id, people.sup)
        assert card.state == "active" and card.activated_at is not None
    with pytest.raises(WrongState), vruntime.db.transaction() as s:
        activate(s, card_id, people.sup)
    for reason in ("", " ", "x" * 201, "bad\x00text"):
        with pytest.raises(LifecycleError) as bad, vruntime.db.transaction() as s:
            suspend(s, card_id, people.sup, reason)
        assert bad.value.field == "reason"
    with vruntime.db.transaction() as s:
        card = suspend(s, card_id, people.sup, "  fraud suspected  ")
        assert (card.state, card.status_reason) == ("suspended", "fraud suspected")
    with pytest.raises(SamePerson), vruntime.db.transaction() as s:
        resume(s, card_id, people.sup, "cleared")
    with pytest.raises(NotFound), vruntime.db.transaction() as s:
        resume(s, card_id, people.north, "cleared")
    with vruntime.db.transaction() as s:
        card = resume(s, card_id, people.sup2, "cleared by the police")
        assert (card.state, card.status_reason) == ("active", None)
    assert audit_actions(vruntime, card_id)[-3:] == ["card.active", "card.suspended", "card.active"]


@pytest.mark.parametrize(("cause", "reason"), [
    (RevocationCause.LOST, "keyCompromise"), (RevocationCause.STOLEN, "keyCompromise"),
    (RevocationCause.DAMAGED, "cessationOfOperation"), (RevocationCause.WITHDRAWN, "privilegeWithdrawn")])
def test_revocation_puts_the_holder_certificate_on_the_crl_list(vruntime: Runtime, people: People,
                                                              cause: RevocationCause, reason: str) -> None:
    card_id, = active_cards(vruntime, people, 1)
    with vruntime.db.transaction() as s:
        s.execute(update(Card).where(Card.id == card_id).values(holder_cert_serial="1A2B3C"))
    card = revoked(vruntime, card_id, people.sup, cause)
    assert (card.state, card.status_reason) == ("revoked", str(cause)) and card.revoked_at is not None
    with vruntime.db.session() as s:
        row = s.scalars(select(Revocation)).one()
        assert (row.issuer, row.serial, row.reason, row.actor) == ("issuing-ca", "1A2B3C", reason, "sup1")
        assert next_moves(s.get_one(Card, card_id)) == []
    with pytest.raises(WrongState):
        revoked(vruntime, card_id, people.sup, cause)


def test_revocation_refusals_and_a_card_without_certificate(vruntime: Runtime, people: People) -> None:
    printed, = printed_cards(vruntime, people.clerk, eligible(1))
    issued, = issued_cards(vruntime, people, 1, skip=1)
    with pytest.raises(WrongState):
        revoked(vruntime, printed, people.sup, RevocationCause.LOST)
    with pytest.raises(NotFound):
        revoked(vruntime, issued, people.north, RevocationCause.LOST)
    with pytest.raises(NotFound):
        revoked(vruntime, 2**31 - 1, people.sup, RevocationCause.LOST)
    assert revoked(vruntime, issued, people.sup, RevocationCause.STOLEN).state == "revoked"
    with vruntime.db.session() as s:
        assert s.scalars(select(Revocation)).all() == []  # no certificate on the card: nothing to list


def test_expiry_moves_active_and_suspended_cards_past_their_date(vruntime: Runtime, people: People) -> None:
    today = dt.date(2031, 6, 1)
    old = active_cards(vruntime, people, 3, expires_on=dt.date(2031, 5, 31))
    last_day = active_cards(vruntime, people, 1, skip=3, expires_on=today)
    with vruntime.db.transaction() as s:
        suspend(s, old[1], people.sup, "holder abroad")
        issued = s.get_one(Card, old[2])
        s.execute(update(Card).where(Card.id == issued.id).values(state="issued"))
    with vruntime.db.transaction() as s:
        assert expire_cards(s, today, Actor("card-expiry")) == [old[0], old[1]]
    with vruntime.db.transaction() as s:
        assert expire_cards(s, today, Actor("card-expiry")) == []  # idempotent
    assert card_state(vruntime, old[0])[0] == card_state(vruntime, old[1])[0] == "expired"
    assert card_state(vruntime, last_day[0])[0] == "active"  # its last valid day
    assert audit_actions(vruntime, old[1])[-1] == "card.expired"
    with vruntime.db.session() as s:
        due = due_for_renewal(s, people.sup, dt.date(2031, 5, 1), 60)
        assert [c.id for c in due] == [old[2], last_day[0]]
        assert due_for_renewal(s, people.north, dt.date(2031, 5, 1), 60) == []


def test_lookups_refuse_junk(vruntime: Runtime, people: People) -> None:
    card_id, = printed_cards(vruntime, people.clerk, eligible(1))
    with vruntime.db.session() as s:
        number = s.get_one(Card, card_id).document_number
        assert card_by_document(s, f" {str(number).lower()} ", people.sup).id == card_id
        for junk in ("", "a" * 21, "T-1", "\x00"):
            with pytest.raises(LifecycleError):
                card_by_document(s, junk, people.sup)
        with pytest.raises(NotFound):
            card_by_document(s, "Z00000000", people.sup)
        with pytest.raises(NotFound):
            card_by_document(s, str(number), people.north)
        for term in ("%", "' or 1=1 --", "\x00" * 50, "ق" * 100):
            assert search_cards(s, people.sup, term) == []


def test_receipt_numbers_as_the_counter_prints_them() -> None:
    for site, n in (("HQ", 1), ("AMMAN-1", 123456789), ("X", 7)):
        printed = number_of(site, n)
        assert receipt_number(printed) == printed
        assert receipt_number(" ".join(printed)) == printed  # spaces a keyboard wedge may add
