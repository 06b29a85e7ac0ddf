"""The administrator's user pages: add, assign role and site, disable or enable, reset password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.accounts import assign, reset_password
from issuance.models import Role, User
from issuance.roles import Permission
from issuance.sites import site_codes
from issuance.transitions import NotFound
from issuance.users import UserError, add_user, set_active
from issuance.web.deps import committing
from issuance.web.pages.deps import Db, Visit, page_guard, render, see_other
from issuance.web_sessions import close_all

router = APIRouter(prefix="/admin", include_in_schema=False)
Admin = Annotated[Visit, Depends(page_guard(Permission.MANAGE_USERS))]
Text = Annotated[str, Form()]


def _users_page(request: Request, v: Visit, session: Session, status: int = 200, error: str = "") -> Response:
    users = session.scalars(select(User).order_by(User.username)).all()
    return render(request, "admin/users.html", v.words, status=status, visit=v, users=users,
                  roles=list(Role), sites=site_codes(session), error=error)


@router.get("/users")
def users_page(request: Request, v: Admin, session: Db) -> Response:
    """Every account with its role, site and state."""
    return _users_page(request, v, session)


@router.post("/users")
def add(request: Request, v: Admin, session: Db, username: Text = "", full_name: Text = "",
        role: Text = "", site: Text = "", temporary_password: Text = "") -> Response:
    """A new account with a temporary password the user must change at first sign-in."""
    try:
        with committing(session):
            if role not in set(Role):
                raise UserError(f"role: must be one of {', '.join(Role)}")
            user = add_user(session, username.strip(), Role(role), temporary_password, actor=v.user.username,
                            site=site.strip() or v.user.site, full_name=full_name.strip())
            user.must_change_password = True
    except UserError as exc:
        return _users_page(request, v, session, 422, str(exc))
    return see_other("/admin/users")


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def _change(request: Request, v: Visit, session: Session, user_id: int,
            change: Callable[[User], None]) -> Response:
    try:
        with committing(session):
            change(_target(session, user_id))
    except UserError as exc:
        return _users_page(request, v, session, 422, str(exc))
    return see_other("/admin/users")


@router.post("/users/{user_id}/assign")
def assign_role(request: Request, user_id: int, v: Admin, session: Db, role: Text = "",
                site: Text = "") -> Response:
    """Give the user a role and a site."""
    def change(user: User) -> None:
        if role not in set(Role):
            raise UserError(f"role: must be one of {', '.join(Role)}")
        assign(session, user, Role(role), site.strip(), actor=v.user.username)
    return _change(request, v, session, user_id, change)


@router.post("/users/{user_id}/active")
def toggle_active(request: Request, user_id: int, v: Admin, session: Db, active: Text = "") -> Response:
    """Disable (signing the user out everywhere) or enable an account."""
    def change(user: User) -> None:
        if user.id == v.user.id:
            raise UserError("active: an administrator cannot disable their own account")
        set_active(session, user.username, active == "1", actor=v.user.username)
        if active != "1":
            close_all(session, user.id)
    return _change(request, v, session, user_id, change)


@router.post("/users/{user_id}/password")
def reset(request: Request, user_id: int, v: Admin, session: Db, temporary_password: Text = "") -> Response:
    """Set a temporary password; the user must change it at next sign-in."""
    def change(user: User) -> None:
        reset_password(session, user, temporary_password, actor=v.user.username)
    return _change(request, v, session, user_id, change)
