"""Sites (registry offices) and what each user may see of them: their own site, or all for admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from issuance import audit
from issuance.models import Role, Site, User


class UnknownSite(LookupError):
    """A site code that no site row holds."""


def add_site(session: Session, code: str, name: str, *, actor: str) -> Site:
    """Register a site; audited."""
    if not code or len(code) > 32 or not code.replace("-", "").isalnum():
        raise ValueError("code: 1-32 letters, digits or '-'")
    if session.get(Site, code) is not None:
        raise ValueError(f"code: site {code} already exists")
    site = Site(code=code, name=name)
    session.add(site)
    session.flush()
    audit.record(session, audit.Entry(actor=actor, site=code, action="site.added", entity_type="site",
                                      entity_id=code, details={"name": name}))
    return site


def ensure_site(session: Session, code: str, *, actor: str) -> Site:
    """The site, created when missing (the configured default site of an embedded install)."""
    return session.get(Site, code) or add_site(session, code, "", actor=actor)


def require_site(session: Session, code: str) -> Site:
    site = session.get(Site, code)
    if site is None:
        raise UnknownSite(f"site: {code} does not exist (add it with `issuance site add {code}`)")
    return site


def sees_all_sites(user: User) -> bool:
    return user.role == Role.ADMIN


def in_scope(user: User, site: str) -> bool:
    """True when the user may see items of `site`."""
    return sees_all_sites(user) or user.site == site


def scoped(stmt: Select[Any], user: User, site_column: InstrumentedAttribute[str]) -> Select[Any]:
    """The query limited to the user's site, unless the user sees every site."""
    return stmt if sees_all_sites(user) else stmt.where(site_column == user.site)


def site_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Site.code).order_by(Site.code)))
