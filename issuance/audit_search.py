"""Reading the audit log: filters, site scope, newest first a page at a time, secrets masked on display.

Writes already refuse secrets (issuance.audit_secrets); the viewer masks them again, so an entry
written before that filter, or by hand, still never shows one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from issuance.audit_secrets import is_secret_name, looks_like_key_material, names_public_value
from issuance.auth import MAX_ID
from issuance.models import Application, AuditEvent, Card, User
from issuance.reports import AUDIT_TS, day_bounds
from issuance.sites import sees_all_sites

PAGE_SIZE = 50
HIDDEN = "(hidden)"
# Each text filter: the column it matches exactly, and that column's width.
TEXT_FILTERS: dict[str, tuple[Any, int]] = {
    "actor": (AuditEvent.actor, 64),
    "entity_type": (AuditEvent.entity_type, 32),
    "entity_id": (AuditEvent.entity_id, 64),
    "action": (AuditEvent.action, 64),
    "site": (AuditEvent.site, 32),
}
_ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f]*$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_NUMBER = re.compile(r"^[0-9]{1,10}$")


class AuditQueryError(ValueError):
    """A filter value the viewer cannot use; names the field and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field


class AuditScopeError(PermissionError):
    """A supervisor asked for another site's entries."""


@dataclass(frozen=True)
class AuditQuery:
    """What the viewer was asked for (every field optional)."""

    actor: str = ""
    entity_type: str = ""
    entity_id: str = ""
    action: str = ""
    site: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    before: int | None = None

    def filters(self) -> dict[str, str]:
        """The query as the form's fields (for links to the next page)."""
        values = {name: getattr(self, name) for name in TEXT_FILTERS}
        values["date_from"] = self.date_from.isoformat() if self.date_from else ""
        values["date_to"] = self.date_to.isoformat() if self.date_to else ""
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class AuditRow:
    seq: int
    ts: str
    actor: str
    site: str
    action: str
    entity_type: str
    entity_id: str
    from_state: str
    to_state: str
    details: dict[str, Any]

    @property
    def details_text(self) -> str:
        """The (masked) details as compact JSON, Arabic left readable."""
        return json.dumps(self.details, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    # The `before` value of the next (older) page; None on the last page.
    older: int | None


def _text(raw: Mapping[str, str], name: str, width: int) -> str:
    value = str(raw.get(name, "") or "").strip()
    if len(value) > width:
        raise AuditQueryError(name, f"at most {width} characters")
    if not _ONE_LINE.match(value):
        raise AuditQueryError(name, "control characters are not allowed")
    return value


def _day(raw: Mapping[str, str], name: str) -> dt.date | None:
    value = str(raw.get(name, "") or "").strip()
    if not value:
        return None
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise AuditQueryError(name, "a date as YYYY-MM-DD") from exc


def _before(raw: Mapping[str, str]) -> int | None:
    value = str(raw.get("before", "") or "").strip()
    if not value:
        return None
    if not _NUMBER.match(value) or not 1 <= int(value) <= MAX_ID:
        raise AuditQueryError("before", f"an entry number from 1 to {MAX_ID}")
    return int(value)


def parse_query(raw: Mapping[str, str]) -> AuditQuery:
    """The filters from a form, each checked; AuditQueryError names the first bad one."""
    texts = {name: _text(raw, name, width) for name, (_, width) in TEXT_FILTERS.items()}
    query = AuditQuery(**texts, date_from=_day(raw, "date_from"), date_to=_day(raw, "date_to"),
                       before=_before(raw))
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise AuditQueryError("date_to", "must not be before date_from")
    return query


def _site_clause(site: str) -> Any:
    """Entries written at the site, or about an application or card of the site."""
    applications = select(cast(Application.id, String)).where(Application.site == site)
    cards = (select(cast(Card.id, String)).join(Application, Application.id == Card.application_id)
             .where(Application.site == site))
    return ((AuditEvent.site == site)
            | ((AuditEvent.entity_type == "application") & AuditEvent.entity_id.in_(applications))
            | ((AuditEvent.entity_type == "card") & AuditEvent.entity_id.in_(cards)))


def scope_site(user: User, query: AuditQuery) -> str:
    """The site the listing is limited to: any asked for by an admin, else the user's own."""
    if sees_all_sites(user):
        return query.site
    if query.site and query.site != user.site:
        raise AuditScopeError(f"site: {user.username} may see entries of site {user.site} only")
    return user.site


def search(session: Session, user: User, query: AuditQuery, tz: ZoneInfo,
           page_size: int = PAGE_SIZE) -> AuditPage:
    """One page of matching entries, newest first, within the user's site scope."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(page_size + 1)
    for name, (column, _) in TEXT_FILTERS.items():
        if name != "site" and getattr(query, name):
            stmt = stmt.where(column == getattr(query, name))
    site = scope_site(user, query)
    if site:
        stmt = stmt.where(_site_clause(site))
    if query.date_from:
        stmt = stmt.where(AuditEvent.ts >= day_bounds(query.date_from, tz)[0].strftime(AUDIT_TS))
    if query.date_to:
        stmt = stmt.where(AuditEvent.ts < day_bounds(query.date_to, tz)[1].strftime(AUDIT_TS))
    if query.before:
        stmt = stmt.where(AuditEvent.seq < query.before)
    events = list(session.scalars(stmt))
    rows = [_row(e) for e in events[:page_size]]
    return AuditPage(rows, rows[-1].seq if len(events) > page_size else None)


def _row(event: AuditEvent) -> AuditRow:
    return AuditRow(event.seq, event.ts, event.actor, event.site, event.action, event.entity_type,
                    event.entity_id, event.from_state, event.to_state, _shown_details(event.details))


def _shown_details(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"details": HIDDEN}
    masked = mask(value)
    return masked if isinstance(masked, dict) else {"details": masked}


def mask(value: Any, name: str = "") -> Any:
    """The value with every secret-named field and key-looking value replaced by "(hidden)"."""
    if name and is_secret_name(name):
        return HIDDEN
    if isinstance(value, dict):
        return {str(k): mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if looks_like_key_material(value) and not (name and names_public_value(name)):
        return HIDDEN
    return value
