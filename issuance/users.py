"""User accounts: creation and password checks (argon2id hashes only)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Role, User
from issuance.signin import check_password
from issuance.sites import UnknownSite, require_site
from issuance.user_sessions import revoke_all

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


def add_user(
    session: Session, username: str, role: Role, password: str, *, actor: str, site: str = "HQ",
    full_name: str = "",
) -> User:
    """Create a user with a hashed password, audited."""
    if not _USERNAME.match(username):
        raise UserError("username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: must be at least {MIN_PASSWORD} characters")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise UserError(f"username: {username!r} already exists")
    try:
        require_site(session, site)
    except UnknownSite as exc:
        raise UserError(str(exc)) from exc
    user = User(
        username=username, role=role, site=site, full_name=full_name,
        password_hash=_hasher.hash(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        audit.Entry(
            actor=actor, site=site, action="user.created", entity_type="user",
            entity_id=str(user.id), details={"username": username, "role": str(role)},
        ),
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (unthrottled: use `signin.sign_in`)."""
    return check_password(session, username, password)


def set_active(session: Session, username: str, active: bool, *, actor: str) -> User:
    """Disable (or re-enable) an account; its tokens stop working at once. Audited."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise UserError(f"username: {username!r} does not exist")
    user.active = active
    if not active:
        revoke_all(session, user.id)
    audit.record(session, audit.Entry(
        actor=actor, site=user.site, action="user.enabled" if active else "user.disabled",
        entity_type="user", entity_id=str(user.id), details={"username": username},
    ))
    return user
