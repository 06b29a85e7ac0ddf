"""Roles, the one guard, and user accounts created from the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from issuance.cli.main import main
from issuance.config import Settings
from issuance.db import Database
from issuance.models import AuditEvent, Role, User
from issuance.roles import ROLE_PERMISSIONS, Permission, PermissionDenied, allows, authorize
from issuance.users import authenticate
from tests.factories import TEST_PASSWORD, make_user

EXPECTED = {
    Role.CLERK: {"enroll", "view_own_applications"},
    Role.OPERATOR: {"operate_station", "print"},
    Role.SUPERVISOR: {"view_all_applications", "resolve_exceptions", "manage_batches",
                      "manage_card_lifecycle", "view_reports", "verify_audit", "view_dashboard"},
    Role.ADMIN: {"manage_users", "manage_keys", "configure", "verify_audit", "view_dashboard"},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_permission_matrix(role: Role, permission: Permission) -> None:
    assert allows(role, permission) == (permission.value in EXPECTED[role])


def test_every_permission_belongs_to_some_role() -> None:
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted == set(Permission)


def test_guard_refuses_with_a_clear_message() -> None:
    clerk = User(username="amal", role=Role.CLERK, active=True)
    assert authorize(clerk, Permission.ENROLL) is clerk
    with pytest.raises(PermissionDenied, match="'amal' \\(role clerk\\) may not resolve exceptions"):
        authorize(clerk, Permission.RESOLVE_EXCEPTIONS)
    clerk.active = False
    with pytest.raises(PermissionDenied, match="disabled"):
        authorize(clerk, Permission.ENROLL)


def _cli(settings: Settings, *args: str, password: str = "a long enough secret") -> tuple[int, str]:
    env = {"ISSUANCE_DATABASE_URL": settings.database_url,
           "ISSUANCE_DATA_DIR": str(settings.data_dir), "ISSUANCE_NEW_PASSWORD": password,
           "ISSUANCE_AS": "admin1", "ISSUANCE_PASSWORD": TEST_PASSWORD}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def admin(db: Database) -> User:
    return make_user(db, "admin1", Role.ADMIN)


def test_user_add_hashes_the_password_and_audits(db: Database, settings: Settings, admin: User) -> None:
    code, out = _cli(settings, "user", "add", "nadia", "--role", "supervisor")
    assert code == 0, out
    with db.session() as s:
        user = s.execute(select(User).where(User.username == "nadia")).scalar_one()
        assert user.role == Role.SUPERVISOR
        assert user.password_hash.startswith("$argon2id$")
        assert "a long enough secret" not in user.password_hash
        assert authenticate(s, "nadia", "a long enough secret") is not None
        assert authenticate(s, "nadia", "wrong password!!") is None
        logged = s.scalars(select(AuditEvent.details)).all()
    assert logged and all("a long enough secret" not in d for d in logged)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("user", "add", "Bad Name", "--role", "clerk"), "a long enough secret", "username:"),
        (("user", "add", "omar", "--role", "clerk"), "short", "password: must be at least"),
        (("user", "add", "omar", "--role", "king"), "a long enough secret", "Invalid value"),
    ],
)
def test_user_add_rejects_bad_input(
    db: Database, settings: Settings, admin: User, args: tuple[str, ...], password: str, message: str
) -> None:
    code, out = _cli(settings, *args, password=password)
    assert code == 2
    assert message in out
    with db.session() as s:
        assert s.scalars(select(User.username)).all() == ["admin1"]


def test_disabled_user_is_listed_and_can_no_longer_sign_in(
    db: Database, settings: Settings, admin: User,
) -> None:
    assert _cli(settings, "user", "add", "rana", "--role", "clerk")[0] == 0
    code, out = _cli(settings, "user", "disable", "rana")
    assert code == 0, out
    code, out = _cli(settings, "user", "list")
    assert "rana" in out and "disabled" in out
    with db.session() as s:
        assert authenticate(s, "rana", "a long enough secret") is None
    assert _cli(settings, "user", "disable", "nobody")[0] == 2


def test_every_permission_guards_something() -> None:
    """A permission that no route, command or service checks is a promise nothing keeps."""
    from pathlib import Path

    from issuance.roles import Permission

    repo = Path(__file__).resolve().parents[2]
    source = "\n".join(path.read_text() for package in ("issuance", "enrollment", "personalization",
                                                         "printing", "workers")
                       for path in (repo / package).rglob("*.py") if path.name != "roles.py")
    unused = [p.name for p in Permission
              if f"Permission.{p.name}" not in source and f"P.{p.name}" not in source]
    assert unused == []
