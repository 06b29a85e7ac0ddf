"""The operators' floor: two sites with stations and printers, their people, and cards at the printer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from issuance.batches import create_batch
from issuance.config import Settings
from issuance.db import Database
from issuance.equipment import add_printer, add_station
from issuance.models import Application, Card, Role, Station, User
from issuance.sites import ensure_site
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, allocate_card, move, move_many
from issuance.web.app import create_app
from tests.factories import make_applications, make_user
from tests.keys.conftest import quick_scrypt, softhsm  # noqa: F401  (fixtures)
from tests.personalization.conftest import pcscd, slot  # noqa: F401  (fixtures)
from tests.station.conftest import keystore_kind, stage, stage_settings  # noqa: F401  (fixtures)
from tests.web.pages import sign_in

A, C = ApplicationState, CardState
ACTOR = Actor("test", "HQ")
# Each site's people: operators, supervisors (two at HQ, for four eyes), a clerk and an admin.
PEOPLE = {"op1": (Role.OPERATOR, "HQ"), "op2": (Role.OPERATOR, "EAST"), "sup1": (Role.SUPERVISOR, "HQ"),
          "sup2": (Role.SUPERVISOR, "HQ"), "sup3": (Role.SUPERVISOR, "EAST"), "clerk1": (Role.CLERK, "HQ"),
          "clerk2": (Role.CLERK, "EAST"), "root": (Role.ADMIN, "HQ")}
CHIP_MOVES = ((C.ALLOCATED, C.ENCODING), (C.ENCODING, C.ENCODED), (C.ENCODED, C.VERIFIED),
              (C.VERIFIED, C.LOCKED))


class People(dict[str, User]):
    """The floor's people, each made on first mention (password hashing is slow by design)."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    def __missing__(self, name: str) -> User:
        role, site = PEOPLE[name]
        self[name] = user = make_user(self.db, name, role, site)
        return user


@dataclass
class Floor:
    """The database and who works on it."""

    db: Database
    users: People

    def sign_in(self, client: TestClient, name: str) -> str:
        """Sign `name` in on the client (made first if needed); the session's CSRF token."""
        self.users[name]
        return sign_in(client, name)

    def station_id(self, code: str) -> int:
        with self.db.session() as s:
            return s.scalars(select(Station.id).where(Station.code == code)).one()

    def locked_cards(self, clerk: str, count: int, *, station: str, printer: str | None = None,
                     seed: int = 1) -> list[int]:
        """`count` applications carried to `personalized`, each with a verified, locked card; card ids."""
        user = self.users[clerk]
        ids = make_applications(self.db, user, count, seed)
        actor = Actor("test", user.site)
        with self.db.transaction() as s:
            for before, after in ((A.DRAFT, A.SUBMITTED), (A.SUBMITTED, A.VALIDATING),
                                  (A.VALIDATING, A.APPROVED)):
                move_many(s, Application, ids, after, actor, expected=before)
            create_batch(s, user.site, actor, stations=[station], printer=printer)
            move_many(s, Application, ids, A.PERSONALIZING, actor, expected=A.BATCHED)
            cards = []
            for app_id in ids:
                card = allocate_card(s, app_id, actor, self.station_id(station))
                card.document_number = f"C{card.id:08d}"
                for before, after in CHIP_MOVES:
                    move(s, Card, card.id, after, actor, expected=before)
                cards.append(card.id)
            move_many(s, Application, ids, A.PERSONALIZED, actor, expected=A.PERSONALIZING)
        return cards

    def number(self, card_id: int) -> str:
        with self.db.session() as s:
            return s.get_one(Card, card_id).document_number or ""


def equip(db: Database, site: str, stations: list[str], printers: list[str]) -> None:
    with db.transaction() as s:
        ensure_site(s, site, actor="test")
        for code in stations:
            add_station(s, code, site, f"Virtual PCD {code}", actor="test")
        for code in printers:
            add_printer(s, code, site, "folder", f"/nonexistent/{code}", actor="test")


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    """The web app without its lifespan: no embedded worker thread prints (or reconciles) behind the test."""
    app = create_app(settings)
    yield TestClient(app)
    app.state.runtime.close()


@pytest.fixture
def floor(db: Database) -> Floor:
    """HQ with stations S1, S2 and printers P1, P2; EAST with station E1 and printer Q1."""
    equip(db, "HQ", ["S1", "S2"], ["P1", "P2"])
    equip(db, "EAST", ["E1"], ["Q1"])
    return Floor(db, People(db))
