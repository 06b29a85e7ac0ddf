"""CLI commands that change or reveal personal data act as a named, signed-in user (point 4)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from issuance.cli.main import main
from issuance.config import Settings
from issuance.db import Database
from issuance.models import AuditEvent, Role
from tests.factories import TEST_PASSWORD, make_user


def _cli(settings: Settings, *args: str, password: str = TEST_PASSWORD) -> tuple[int, str]:
    env = {"ISSUANCE_DATABASE_URL": settings.database_url, "ISSUANCE_DATA_DIR": str(settings.data_dir),
           "ISSUANCE_PASSWORD": password, "ISSUANCE_NEW_PASSWORD": "a long enough secret"}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def _last(db: Database) -> AuditEvent:
    with db.session() as s:
        return s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()  # type: ignore[return-value]


def test_commands_refuse_to_run_anonymously(db: Database, settings: Settings) -> None:
    make_user(db, "admin1", Role.ADMIN)
    for args in (("station", "add", "S1", "--site", "HQ"), ("printer", "add", "P1", "--site", "HQ"),
                 ("batch", "create", "--site", "HQ"), ("exception", "list"), ("user", "list"),
                 ("user", "disable", "admin1"), ("user", "add", "x1", "--role", "clerk")):
        code, out = _cli(settings, *args)
        assert code == 2 and "--as NAME" in out, (args, out)


def test_the_named_user_is_audited_and_needs_the_role(db: Database, settings: Settings) -> None:
    make_user(db, "admin1", Role.ADMIN)
    make_user(db, "clerk1", Role.CLERK)
    code, out = _cli(settings, "station", "add", "S1", "--site", "HQ", "--as", "clerk1")
    assert code == 2 and "may not configure" in out
    code, out = _cli(settings, "station", "add", "S1", "--site", "HQ", "--as", "admin1")
    assert code == 0, out
    last = _last(db)
    assert (last.action, last.actor) == ("station.added", "admin1")


def test_a_wrong_password_is_a_counted_audited_failure(db: Database, settings: Settings) -> None:
    make_user(db, "admin1", Role.ADMIN)
    code, out = _cli(settings, "user", "list", "--as", "admin1", password="not the password")
    assert code == 2 and "wrong" in out
    last = _last(db)
    assert last.action == "signin.failed" and json.loads(last.details)["address"] == "cli"


def test_first_admin_bootstrap_only_on_an_empty_database(db: Database, settings: Settings) -> None:
    code, out = _cli(settings, "user", "add", "boss", "--role", "clerk")
    assert code == 2 and "first one must be an admin" in out
    code, out = _cli(settings, "user", "add", "boss", "--role", "admin")
    assert code == 0, out
    assert (_last(db).action, _last(db).actor) == ("user.created", "boss")
    code, out = _cli(settings, "user", "add", "eve", "--role", "admin")
    assert code == 2 and "--as NAME" in out
    code, out = _cli(settings, "user", "add", "amal", "--role", "clerk", "--as", "boss",
                     password="a long enough secret")
    assert code == 0, out
    assert _last(db).actor == "boss"
