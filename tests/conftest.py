"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (127.0.0.1:5432)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from issuance import migrate
from issuance.config import Settings
from issuance.db import Database
from issuance.models import Role, User
from issuance.runtime import Runtime, audit_anchor
from issuance.web.app import create_app
from tests.databases import reset_postgres
from tests.factories import make_user
from workers.queues import open_queue

PG_ADMIN = os.environ.get("ISSUANCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# `-m "not postgres"` leaves out every PostgreSQL case of a backend-parametrized test.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
_RUN_ID = uuid.uuid4().hex


def _pg_database_name() -> str:
    # Unique per run and per xdist worker, so two test runs on one machine never collide.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", _RUN_ID)[:8]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"issuance_test_{run}_{worker}"


@pytest.fixture(autouse=True)
def empty_embedded_queue() -> None:
    """The embedded queue lives as long as the process: each test starts with it empty."""
    open_queue(Settings()).connection.flushall()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A private PostgreSQL database per test worker, migrated to head."""
    name = _pg_database_name()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    migrate.upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a fresh SQLite file, or the worker's PostgreSQL truncated."""
    if request.param == "sqlite":
        path = tmp_path / "issuance.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    reset_postgres(url)
    return url


@pytest.fixture
def db(database_url: str, settings: Settings) -> Iterator[Database]:
    """The test's database, with the audit keys and checkpoint file of the test's settings."""
    database = Database(database_url, audit_anchor(settings))
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Embedded defaults with the test's database and a private data folder."""
    return replace(Settings(), data_dir=tmp_path / "var", database_url=database_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The whole web app on the test's settings, its lifespan running."""
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.runtime.close()


@pytest.fixture
def clerk(db: Database) -> User:
    return make_user(db, "clerk1", Role.CLERK)


@pytest.fixture
def supervisor(db: Database) -> User:
    return make_user(db, "super1", Role.SUPERVISOR)
