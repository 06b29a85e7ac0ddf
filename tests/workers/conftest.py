"""Fixtures of the validation stage: a seeded reference registry beside the test database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from issuance.config import Settings
from issuance.demo import population
from issuance.registry.store import RegistryStore
from issuance.runtime import Runtime

POPULATION = population.generate(400, seed=77)


@pytest.fixture(scope="session")
def registry_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A registry SQLite file seeded once with the test population; tests only read it."""
    path = tmp_path_factory.mktemp("registry") / "registry.db"
    store = RegistryStore(f"sqlite:///{path}")
    store.seed(POPULATION)
    store.close()
    return f"sqlite:///{path}"


@pytest.fixture
def vsettings(settings: Settings, registry_db: str) -> Settings:
    return dataclasses.replace(settings, registry_database_url=registry_db, lease_seconds=60)


@pytest.fixture
def vruntime(vsettings: Settings) -> Iterator[Runtime]:
    rt = Runtime(vsettings)
    yield rt
    rt.close()


def eligible(n: int, skip: int = 0) -> list[population.Citizen]:
    return [c for c in POPULATION if population.eligible(c)][skip : skip + n]


def first(predicate: object) -> population.Citizen:
    return next(c for c in POPULATION if predicate(c))  # type: ignore[operator]


@pytest.fixture
def tmp_out(tmp_path: Path) -> Path:
    return tmp_path
