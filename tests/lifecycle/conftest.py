"""Cards carried to `printed` (as personalization and printing leave them), and the people who follow them."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from PIL import Image
from sqlalchemy import select, update

from issuance.biometrics import ImageMeta, store_biometric
from issuance.demo.population import Citizen
from issuance.lifecycle import RevocationCause, activate, dispatch, revoke_card
from issuance.models import Application, AuditEvent, BiometricKind, Card, Role, User
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, allocate_card, move, move_many
from tests.factories import enroll_citizens, make_user
from tests.workers.conftest import eligible, registry_db, vruntime, vsettings  # noqa: F401  (fixtures)

A, C = ApplicationState, CardState
STAGE = Actor("test-stage", "HQ")
_APP_PATH = [A.SUBMITTED, A.VALIDATING, A.APPROVED, A.BATCHED, A.PERSONALIZING, A.PERSONALIZED, A.PRINTING,
             A.PRINTED]
_CARD_PATH = [C.ENCODING, C.ENCODED, C.VERIFIED, C.LOCKED, C.PRINTED]


@dataclass(frozen=True)
class People:
    clerk: User
    sup: User
    sup2: User
    north: User  # a supervisor of another site
    operator: User
    admin: User


@pytest.fixture
def people(vruntime: Runtime) -> People:  # noqa: F811
    db = vruntime.db
    return People(make_user(db, "clerk1", Role.CLERK), make_user(db, "sup1", Role.SUPERVISOR),
                  make_user(db, "sup2", Role.SUPERVISOR), make_user(db, "north1", Role.SUPERVISOR, "NORTH"),
                  make_user(db, "op1", Role.OPERATOR), make_user(db, "admin1", Role.ADMIN))


def signature_png() -> bytes:
    """A pen stroke on white, as the pad sends it."""
    image = Image.new("L", (600, 200), 255)
    image.paste(0, (40, 90, 560, 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def advance(rt: Runtime, app_ids: list[int], expires_on: dt.date, start: ApplicationState = A.DRAFT
            ) -> list[int]:
    """Carry applications from `start` to a printed card each (no chip: states and numbers only)."""
    card_ids = []
    with rt.db.transaction() as s:
        before = start
        for state in _APP_PATH[_APP_PATH.index(start) + 1 if start in _APP_PATH else 0:5]:
            move_many(s, Application, app_ids, state, STAGE, expected=before)
            before = state
        for app_id in app_ids:
            card = allocate_card(s, app_id, STAGE)
            s.execute(update(Card).where(Card.id == card.id).values(
                document_number=f"T{card.id:08d}", expires_on=expires_on,
                issued_on=expires_on - dt.timedelta(days=3652)))
            card_ids.append(card.id)
        before_card = C.ALLOCATED
        for state in _CARD_PATH:
            move_many(s, Card, card_ids, state, STAGE, expected=before_card)
            before_card = state
        for state in _APP_PATH[5:]:
            move_many(s, Application, app_ids, state, STAGE, expected=before)
            before = state
    return card_ids


def printed_cards(rt: Runtime, clerk: User, citizens: list[Citizen], *,
                  expires_on: dt.date | None = None, chip_photo: bytes | None = None) -> list[int]:
    """Cards of new applications for these citizens, printed and waiting for dispatch; their ids."""
    app_ids = enroll_citizens(rt.db, rt.vault, clerk, citizens, submit_them=False)
    if chip_photo is not None:
        with rt.db.transaction() as s:
            for app_id in app_ids:
                store_biometric(s, rt.vault, app_id, BiometricKind.CHIP_PHOTO, chip_photo,
                                ImageMeta("image/jpeg", 413, 531), "test")
    return advance(rt, app_ids, expires_on or dt.date.today() + dt.timedelta(days=3650))


def application_number(rt: Runtime, card_id: int) -> str:
    with rt.db.session() as s:
        return str(s.get_one(Card, card_id).application.number)


def card_state(rt: Runtime, card_id: int) -> tuple[str, str]:
    """(card state, application state)."""
    with rt.db.session() as s:
        card = s.get_one(Card, card_id)
        return str(card.state), str(card.application.state)


def dispatched(rt: Runtime, card_ids: list[int], user: User, office: str = "HQ") -> None:
    with rt.db.transaction() as s:
        dispatch(s, card_ids, office, user)


def issued_cards(rt: Runtime, people: People, count: int, skip: int = 0, **kw: object) -> list[int]:
    """Cards handed over (issued) without the counter: for the moves that follow."""
    ids = printed_cards(rt, people.clerk, eligible(count, skip), **kw)  # type: ignore[arg-type]
    dispatched(rt, ids, people.sup)
    with rt.db.transaction() as s:
        for card_id in ids:
            card = s.get_one(Card, card_id)
            move(s, Card, card_id, C.ISSUED, STAGE, expected=C.PRINTED)
            move(s, Application, card.application_id, A.DELIVERED, STAGE, expected=A.DISPATCHED)
    return ids


def active_cards(rt: Runtime, people: People, count: int, skip: int = 0, **kw: object) -> list[int]:
    ids = issued_cards(rt, people, count, skip, **kw)
    with rt.db.transaction() as s:
        for card_id in ids:
            activate(s, card_id, people.sup)
    return ids


def revoked(rt: Runtime, card_id: int, user: User, cause: RevocationCause) -> Card:
    with rt.db.transaction() as s:
        return revoke_card(s, card_id, user, cause)


def audit_actions(rt: Runtime, card_id: int) -> list[str]:
    with rt.db.session() as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "card", AuditEvent.entity_id == str(card_id)).order_by(AuditEvent.seq)))
