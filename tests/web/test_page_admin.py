"""The administrator's user pages and the supervisor's exceptions page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from issuance import audit
from issuance.db import Database
from issuance.models import AuditEvent, Role, User, WebSession
from issuance.sites import ensure_site
from tests.factories import make_user
from tests.web.pages import sign_in


def _user(db: Database, name: str) -> User:
    with db.session() as s:
        return s.scalars(select(User).where(User.username == name)).one()


def _actions(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_admin_assigns_disables_and_resets(db: Database, client: TestClient) -> None:
    make_user(db, "root", Role.ADMIN)
    nadia = make_user(db, "nadia", Role.CLERK)
    with db.transaction() as s:
        ensure_site(s, "NORTH", actor="test")
    sign_in(client, "nadia")
    nadia_cookies = dict(client.cookies)
    csrf = sign_in(client, "root")
    page = client.get("/admin/users")
    assert "nadia" in page.text and 'value="NORTH"' in page.text

    r = client.post(f"/admin/users/{nadia.id}/assign", data={"csrf_token": csrf, "role": "operator",
                                                              "site": "NOWHERE"})
    assert r.status_code == 422 and "NOWHERE does not exist" in r.text
    r = client.post(f"/admin/users/{nadia.id}/assign", data={"csrf_token": csrf, "role": "supervisor",
                                                              "site": "NORTH"}, follow_redirects=False)
    assert r.status_code == 303
    assert (_user(db, "nadia").role, _user(db, "nadia").site) == (Role.SUPERVISOR, "NORTH")

    r = client.post(f"/admin/users/{nadia.id}/active", data={"csrf_token": csrf, "active": "0"},
                    follow_redirects=False)
    assert r.status_code == 303 and _user(db, "nadia").active is False
    with db.session() as s:  # disabling ends the user's sessions at once
        assert s.scalars(select(WebSession).where(WebSession.user_id == nadia.id)).first() is None
    root_id = _user(db, "root").id
    r = client.post(f"/admin/users/{root_id}/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 422 and _user(db, "root").active is True

    r = client.post(f"/admin/users/{nadia.id}/password", data={"csrf_token": csrf,
                                                                "temporary_password": "short"})
    assert r.status_code == 422 and "at least 10" in r.text
    client.post(f"/admin/users/{nadia.id}/active", data={"csrf_token": csrf, "active": "1"})
    client.post(f"/admin/users/{nadia.id}/password", data={"csrf_token": csrf,
                                                            "temporary_password": "temporary-456"})
    assert _user(db, "nadia").must_change_password is True
    client.cookies.clear()
    for name, value in nadia_cookies.items():
        client.cookies.set(name, value)
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    assert {"user.assigned", "user.disabled", "user.enabled", "user.password_reset"} <= set(_actions(db))
    with db.session() as s:
        assert audit.verify(s).ok
    # The reset password is never written to the audit log.
    with db.session() as s:
        assert not any("temporary-456" in d for d in s.scalars(select(AuditEvent.details)))


def test_supervisor_sees_exceptions_and_a_clerk_cannot(db: Database, client: TestClient) -> None:
    make_user(db, "sara", Role.SUPERVISOR)
    make_user(db, "amal", Role.CLERK)
    sign_in(client, "sara")
    assert client.get("/supervisor/exceptions").status_code == 200
    assert client.get("/admin/users").status_code == 403
    sign_in(client, "amal")
    for path in ("/supervisor/exceptions", "/admin/users"):
        r = client.get(path)
        assert r.status_code == 403 and "may not" in r.text
    home = client.get("/").text
    assert "/counter/new" in home and "/admin/users" not in home and "/supervisor/exceptions" not in home
