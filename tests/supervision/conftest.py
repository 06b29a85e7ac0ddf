"""Supervision fixtures: two sites, their supervisors, a seeded registry, held exceptions and batches."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from issuance.config import Settings
from issuance.db import Database
from issuance.equipment import add_printer, add_station
from issuance.models import Applicant, Application, Batch, Printer, Role, Station, User
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from tests.factories import enroll_citizens, make_user
from tests.workers.conftest import eligible, registry_db  # noqa: F401  (fixture)

A = ApplicationState


@pytest.fixture
def settings(settings: Settings, registry_db: str) -> Settings:  # noqa: F811
    """The test's settings with the seeded reference registry in-process (the root fixtures use them)."""
    return dataclasses.replace(settings, registry_database_url=registry_db)


@dataclass
class People:
    clerk: User  # HQ counter clerk
    sara: User  # HQ supervisor
    omar: User  # HQ supervisor
    nour: User  # NORTH supervisor


@pytest.fixture
def people(runtime: Runtime) -> People:
    db = runtime.db
    return People(make_user(db, "amal", Role.CLERK), make_user(db, "sara", Role.SUPERVISOR),
                  make_user(db, "omar", Role.SUPERVISOR), make_user(db, "nour", Role.SUPERVISOR, "NORTH"))


def hold(rt: Runtime, clerk: User, reasons: list[dict[str, Any]], *, count: int = 1, skip: int = 0,
         days: float = 0, site: str = "HQ") -> list[int]:
    """Applications of eligible citizens held in `exception` with these reasons, `days` ago."""
    ids = enroll_citizens(rt.db, rt.vault, clerk, eligible(count, skip))
    with rt.db.transaction() as s:
        s.execute(update(Application).where(Application.id.in_(ids)).values(
            state=A.EXCEPTION, outcome_reasons=reasons, site=site,
            updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days)))
    return ids


def reason(code: str, message: str = "held", **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "severity": "exception", **extra}


def equip(db: Database, site: str = "HQ", stations: tuple[str, ...] = ("S1", "S2"),
          printers: tuple[str, ...] = ("P1",), spool: Path | None = None) -> None:
    with db.transaction() as s:
        for code in stations:
            add_station(s, code, site, "", actor="test")
        for code in printers:
            add_printer(s, code, site, "folder", str(spool or Path("spool")), actor="test")


def approve(rt: Runtime, clerk: User, count: int, skip: int = 0) -> list[int]:
    """Approved applications at HQ, ready to batch."""
    ids = enroll_citizens(rt.db, rt.vault, clerk, eligible(count, skip))
    with rt.db.transaction() as s:
        s.execute(update(Application).where(Application.id.in_(ids)).values(state=A.APPROVED))
    return ids


def set_state(db: Database, ids: list[int], state: ApplicationState) -> None:
    with db.transaction() as s:
        s.execute(update(Application).where(Application.id.in_(ids)).values(state=state))


def empty_batch(db: Database, number: str, site: str = "HQ", stations: tuple[str, ...] = ("S1",),
                printer: str = "P1") -> int:
    """A batch row with no application yet (to attach cards made by the print tests' helpers)."""
    with db.transaction() as s:
        chosen = [s.query(Station).filter_by(code=c).one() for c in stations]
        found = s.query(Printer).filter_by(code=printer).one()
        batch = Batch(number=number, site=site, created_by="test", printer=found, stations=chosen)
        s.add(batch)
        s.flush()
        return batch.id


def applicant_of(db: Database, app_id: int) -> Applicant:
    with db.session() as s:
        return s.get_one(Application, app_id).applicant
