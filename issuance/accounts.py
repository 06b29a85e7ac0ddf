"""Account upkeep: password changes and resets, role and site, the remembered language; all audited."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Role, User
from issuance.sites import UnknownSite, require_site
from issuance.users import MIN_PASSWORD, UserError
from issuance.web_sessions import close_all

LANGUAGES = ("ar", "en")
_hasher = PasswordHasher()


def _audit(session: Session, actor: str, user: User, action: str, **details: object) -> None:
    audit.record(session, audit.Entry(
        actor=actor, site=user.site, action=action, entity_type="user", entity_id=str(user.id),
        details={"username": user.username, **details},
    ))


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: must be at least {MIN_PASSWORD} characters")


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """The user replaces their own password, proving the current one; clears must_change_password."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise UserError("current_password: does not match") from exc
    _check_new_password(new)
    if new == current:
        raise UserError("new_password: must differ from the current one")
    user.password_hash = _hasher.hash(new)
    user.must_change_password = False
    _audit(session, user.username, user, "user.password_changed")


def reset_password(session: Session, user: User, temporary: str, *, actor: str) -> None:
    """An administrator sets a temporary password; the user must change it and is signed out."""
    _check_new_password(temporary)
    user.password_hash = _hasher.hash(temporary)
    user.must_change_password = True
    close_all(session, user.id)
    _audit(session, actor, user, "user.password_reset")


def assign(session: Session, user: User, role: Role, site: str, *, actor: str) -> None:
    """Give a user a role and a site (a site that exists)."""
    try:
        require_site(session, site)
    except UnknownSite as exc:
        raise UserError(str(exc)) from exc
    before = {"role": str(user.role), "site": user.site}
    user.role, user.site = role, site
    _audit(session, actor, user, "user.assigned", before=before, after={"role": str(role), "site": site})


def set_language(session: Session, user: User, language: str) -> None:
    """Remember the screens' language for this user."""
    if language not in LANGUAGES:
        raise UserError(f"language: must be one of {', '.join(LANGUAGES)}")
    user.language = language
