"""`issuance demo`: sample citizens carried through every stage that exists, on embedded defaults."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from issuance import population
from issuance.applications import open_application, submit
from issuance.config import Settings
from issuance.models import Application, Role, User
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from issuance.transitions import Actor, move
from issuance.users import add_user

DEMO_USERS = {
    "clerk": Role.CLERK, "operator": Role.OPERATOR,
    "supervisor": Role.SUPERVISOR, "admin": Role.ADMIN,
}


@dataclass
class Summary:
    """What the demo did, printed as text or JSON."""

    applications: int
    by_state: dict[str, int]
    out_dir: str
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def demo_settings(base: Settings, out_dir: Path) -> Settings:
    """The embedded defaults, with every file the demo writes under `out_dir`."""
    return replace(base, data_dir=out_dir, database_url=f"sqlite:///{out_dir / 'demo.db'}",
                   redis_url="", keystore="software", card_transport="virtual", printer="folder")


def _users(rt: Runtime) -> dict[str, User]:
    with rt.db.transaction() as s:
        return {
            name: add_user(s, name, role, secrets.token_urlsafe(16), actor="demo",
                           site=rt.settings.site)
            for name, role in DEMO_USERS.items()
        }


def _enroll(rt: Runtime, clerk: User, count: int) -> list[int]:
    ids = []
    for citizen in population.generate(count):
        with rt.db.transaction() as s:
            app = open_application(s, asdict(citizen), clerk)
            submit(s, app.id, Actor(clerk.username, app.site))
            ids.append(app.id)
    return ids


def _validate(rt: Runtime, ids: list[int]) -> None:
    worker = Actor("demo-validator", rt.settings.site)
    for app_id in ids:
        with rt.db.transaction() as s:
            move(s, Application, app_id, ApplicationState.VALIDATING, worker)
            move(s, Application, app_id, ApplicationState.APPROVED, worker)


def _summary(rt: Runtime, out_dir: Path) -> Summary:
    with rt.db.session() as s:
        rows = s.execute(select(Application.state, func.count()).group_by(Application.state))
        by_state = Counter({str(state): n for state, n in rows})
    return Summary(sum(by_state.values()), dict(sorted(by_state.items())), str(out_dir))


def run_demo(base: Settings, out_dir: Path, count: int = 8) -> Summary:
    """Start from an empty demo database and carry `count` citizens through the pipeline."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("demo.db*"):
        stale.unlink()
    rt = Runtime(demo_settings(base, out_dir))
    try:
        users = _users(rt)
        ids = _enroll(rt, users["clerk"], count)
        _validate(rt, ids)
        return _summary(rt, out_dir)
    finally:
        rt.close()
