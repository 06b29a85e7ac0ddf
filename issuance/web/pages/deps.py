"""What every page shares: the browser session behind the cookie, CSRF, role guards, rendering."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from issuance.models import Role, User, WebSession
from issuance.roles import Permission, PermissionDenied, allows, authorize
from issuance.web.deps import WebRuntime, committing, db_session, runtime
from issuance.web.pages.i18n import Words, pick_language
from issuance.web_sessions import IDLE_MINUTES, find_session

SESSION_COOKIE = "issuance_session"
LANGUAGE_COOKIE = "issuance_lang"
PRE_CSRF_COOKIE = "issuance_presign"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Pages a user who must change their password may still open.
PASSWORD_FREE = frozenset({"/password", "/sign-out", "/language"})

# Where each permission's screens start, in the order the navigation lists them.
POLL_HEADER = "X-Poll"  # set by the pages' polling fragments (hx-headers)
LANDINGS = (
    (Permission.ENROLL, "/counter/new", "new_application"),
    (Permission.VIEW_OWN_APPLICATIONS, "/counter/applications", "my_applications"),
    (Permission.RESOLVE_EXCEPTIONS, "/supervisor/exceptions", "exceptions"),
    (Permission.MANAGE_BATCHES, "/supervisor/batches", "batches"),
    (Permission.MANAGE_USERS, "/admin/users", "users"),
    (Permission.VIEW_DASHBOARD, "/supervisor/dashboard", "dashboard"),
    (Permission.MANAGE_CARD_LIFECYCLE, "/cards", "cards_nav"),
    (Permission.MANAGE_BATCHES, "/reports", "reports"),
    (Permission.VERIFY_AUDIT, "/audit", "audit_log"),
    (Permission.OPERATE_STATION, "/operators/stations", "op_stations"),
    (Permission.PRINT, "/operators/printers", "op_printers"),
    (Permission.MANAGE_CARD_LIFECYCLE, "/supervisor/reprints", "op_reprint_approvals"),
)

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
Db = Annotated[Session, Depends(db_session)]
Rt = Annotated[WebRuntime, Depends(runtime)]


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page."""


class PasswordChangeRequired(Exception):
    """The user has a temporary password and must choose their own first."""


class PageRefused(Exception):
    """A page or form the user may not use (role, CSRF); shown as an HTML page with `status`.

    `key` names the screens' words for it; the reason itself is shown too, as the service gave it.
    """

    def __init__(self, status: int, reason: str, key: str = "refused") -> None:
        super().__init__(reason)
        self.status, self.key = status, key


@dataclass(frozen=True)
class Visit:
    """A signed-in browser: who, their session, and the words of their language."""

    user: User
    web: WebSession
    words: Words


def words_for(request: Request, rt: WebRuntime, user: User | None = None) -> Words:
    """The screens' language: the user's choice, else the browser's cookie, else the default."""
    language = pick_language(user.language if user else None, request.cookies.get(LANGUAGE_COOKIE))
    arabic = str(rt.settings.extra.get("digits", "latin")) == "arabic-indic"
    return Words(language, arabic_digits=arabic)


def idle_minutes(rt: WebRuntime) -> int:
    return int(rt.settings.extra.get("session_idle_minutes", IDLE_MINUTES))


def visit(request: Request, session: Db, rt: Rt) -> Visit:
    """The signed-in user behind the session cookie, or SignInRequired."""
    # A writing transaction: the session's last_seen is refreshed, or the expired row removed.
    with committing(session):
        # A screen's own polling is not the user at work: it must not keep an idle session alive.
        row = find_session(session, request.cookies.get(SESSION_COOKIE, ""), idle_minutes=idle_minutes(rt),
                           touch=request.headers.get(POLL_HEADER) != "1")
    user = session.get(User, row.user_id) if row else None
    if row is None or user is None or not user.active:
        raise SignInRequired()
    if user.must_change_password and request.url.path not in PASSWORD_FREE:
        raise PasswordChangeRequired()
    return Visit(user, row, words_for(request, rt, user))


async def _sent_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        return str((await request.form()).get(CSRF_FIELD, ""))
    return ""


async def csrf_checked(request: Request, v: Annotated[Visit, Depends(visit)]) -> Visit:
    """The visit, once an unsafe request proved it came from our own form (synchroniser token)."""
    if request.method not in SAFE_METHODS:
        sent = await _sent_token(request)
        if not hmac.compare_digest(sent.encode(), v.web.csrf_token.encode()):
            raise PageRefused(403, "CSRF token missing or wrong: reload the page and try again", "csrf")
    return v


Signed = Annotated[Visit, Depends(csrf_checked)]


def page_guard(permission: Permission) -> Callable[..., Visit]:
    """A dependency admitting signed-in users whose role grants `permission` (after the CSRF check)."""

    def guard(v: Signed) -> Visit:
        try:
            authorize(v.user, permission)
        except PermissionDenied as exc:
            raise PageRefused(403, str(exc), "forbidden") from exc
        return v

    guard.permission = permission  # type: ignore[attr-defined]  # read by the role tests
    return guard


def landings(role: Role) -> list[tuple[str, str]]:
    """The screens a role may open: (url, text key)."""
    return [(url, key) for perm, url, key in LANDINGS if allows(role, perm)]


def new_presign_token() -> str:
    return secrets.token_urlsafe(24)


def render(request: Request, name: str, words: Words, status: int = 200,
           visit: Visit | None = None, **context: Any) -> HTMLResponse:
    """A page in the visitor's language, with their CSRF token for its forms."""
    base = {"t": words, "lang": words.language, "dir": words.direction,
            "user": visit.user if visit else None, "nav": landings(visit.user.role) if visit else [],
            "csrf": visit.web.csrf_token if visit else context.pop("csrf", "")}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def see_other(url: str) -> Response:
    """Redirect after a form post (303, so the browser follows with GET)."""
    return RedirectResponse(url, status_code=303)


def secure(request: Request) -> bool:
    """Cookies are marked Secure when the page was served over TLS."""
    return request.url.scheme == "https"
