"""Small builders the tests share."""

from __future__ import annotations

from dataclasses import asdict

from issuance import population
from issuance.applications import open_application
from issuance.db import Database
from issuance.models import Application, Role, User
from issuance.users import add_user

TEST_PASSWORD = "correct horse battery"


def make_user(db: Database, name: str, role: Role, site: str = "HQ") -> User:
    """A user with the test password, committed."""
    with db.transaction() as s:
        return add_user(s, name, role, TEST_PASSWORD, actor="test", site=site)


def make_applications(db: Database, clerk: User, count: int = 1, seed: int = 1) -> list[int]:
    """`count` draft applications for synthetic citizens; returns their ids."""
    ids = []
    with db.transaction() as s:
        for citizen in population.generate(count, seed=seed):
            ids.append(open_application(s, asdict(citizen), clerk).id)
    return ids


def application_state(db: Database, app_id: int) -> str:
    with db.session() as s:
        return str(s.get_one(Application, app_id).state)
