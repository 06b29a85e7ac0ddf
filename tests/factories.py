"""Small builders the tests share."""

from __future__ import annotations

from fastapi.testclient import TestClient

from issuance.applications import open_application, submit
from issuance.biometrics import ImageMeta, store_biometric
from issuance.db import Database
from issuance.demo import population
from issuance.models import Application, BiometricKind, Role, User
from issuance.sites import ensure_site
from issuance.transitions import Actor
from issuance.users import add_user
from issuance.vault import Vault

TEST_PASSWORD = "correct horse battery"


def make_user(db: Database, name: str, role: Role, site: str = "HQ") -> User:
    """A user with the test password, committed."""
    with db.transaction() as s:
        ensure_site(s, site, actor="test")
        return add_user(s, name, role, TEST_PASSWORD, actor="test", site=site)


def make_applications(db: Database, clerk: User, count: int = 1, seed: int = 1) -> list[int]:
    """`count` draft applications for synthetic citizens; returns their ids."""
    ids = []
    with db.transaction() as s:
        for citizen in population.generate(count, seed=seed):
            ids.append(open_application(s, citizen, clerk).id)
    return ids


def application_state(db: Database, app_id: int) -> str:
    with db.session() as s:
        return str(s.get_one(Application, app_id).state)


def add_passed_photo(db: Database, vault: Vault, app_ids: list[int]) -> None:
    """A stored photo that passed quality, for tests of later stages."""
    with db.transaction() as s:
        for app_id in app_ids:
            store_biometric(s, vault, app_id, BiometricKind.PHOTO, b"\xff\xd8test-jpeg\xff\xd9",
                            ImageMeta("image/jpeg", 413, 531), "test", quality_passed=True)


def enroll_citizens(db: Database, vault: Vault, clerk: User, citizens: list[population.Citizen],
                    *, submit_them: bool = True, photo: bool = True) -> list[int]:
    """Draft (and by default submitted) applications for these citizens, with passed photos."""
    ids = []
    with db.transaction() as s:
        for citizen in citizens:
            ids.append(open_application(s, citizen, clerk).id)
    if photo:
        add_passed_photo(db, vault, ids)
    if submit_them:
        with db.transaction() as s:
            for app_id in ids:
                submit(s, app_id, Actor(clerk.username))
    return ids


def bearer(client: TestClient, name: str, password: str = TEST_PASSWORD) -> dict[str, str]:
    """Sign `name` in through the API; the Authorization header for its token."""
    r = client.post("/api/session", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def signed_in(client: TestClient, db: Database, name: str, role: Role = Role.CLERK) -> dict[str, str]:
    """A new user of `role`, signed in: the Authorization header."""
    make_user(db, name, role)
    return bearer(client, name)
