"""Sign-in, sign-out, the first-sign-in password change, the language switch and the home page."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from issuance import signin
from issuance.accounts import change_password, set_language
from issuance.models import User
from issuance.signin import Refusal
from issuance.users import UserError
from issuance.web.deps import committing
from issuance.web.pages.deps import (
    LANGUAGE_COOKIE,
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    Db,
    PageRefused,
    Rt,
    Signed,
    Visit,
    idle_minutes,
    landings,
    new_presign_token,
    render,
    secure,
    see_other,
    visit,
    words_for,
)
from issuance.web.pages.i18n import LANGUAGES
from issuance.web_sessions import close_session, open_session

router = APIRouter(include_in_schema=False)
# Routes open to anyone (sign-in) or to any signed-in user whatever the role.
OPEN_PATHS = frozenset({"/", "/sign-in", "/sign-out", "/password", "/language"})

@router.get("/")
def home(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    """The signed-in user's screens; anonymous visitors are sent to sign in."""
    return render(request, "home.html", v.words, visit=v, links=landings(v.user.role))


def _sign_in_page(request: Request, rt: Rt, status: int = 200, error: str = "",
                  username: str = "") -> Response:
    words = words_for(request, rt)
    token = request.cookies.get(PRE_CSRF_COOKIE) or new_presign_token()
    response = render(request, "sign_in.html", words, status=status, csrf=token, error=error,
                      username=username)
    response.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request),
                        path="/sign-in")
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, rt: Rt, lang: str = "") -> Response:
    """The sign-in form (`?lang=ar|en` switches its language for this browser)."""
    response = _sign_in_page(request, rt)
    if lang in LANGUAGES:
        response = see_other("/sign-in")
        response.set_cookie(LANGUAGE_COOKIE, lang, httponly=True, samesite="strict", secure=secure(request),
                            max_age=365 * 86400)
    return response


def check_credentials(session: Session, username: str, password: str, address: str) -> User | Refusal:
    """The core sign-in service's verdict: the user, or why not.

    Throttling and lockout per account and per address live in that service; the page never
    counts failures itself.
    """
    return signin.sign_in(session, username, password, address)


@router.post("/sign-in")
def sign_in(
    request: Request, session: Db, rt: Rt, username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Check the credentials with the core sign-in service and open a browser session."""
    expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        raise PageRefused(403, "CSRF token missing or wrong: reload the sign-in page", "csrf")
    address = request.client.host if request.client else ""
    # One transaction whatever the verdict: a refusal's counters and audit entries are kept.
    with committing(session):
        verdict = check_credentials(session, username.strip(), password, address)
        user = verdict if isinstance(verdict, User) else None
        opened = open_session(session, user, address, idle_minutes=idle_minutes(rt)) if user else None
    if user is None or opened is None:
        if isinstance(verdict, Refusal) and verdict.reason != "wrong":  # throttled or locked
            return _sign_in_page(request, rt, 429, verdict.message, username)
        return _sign_in_page(request, rt, 401, words_for(request, rt)("bad_credentials"), username)
    response = see_other("/password" if user.must_change_password else "/")
    response.set_cookie(SESSION_COOKIE, opened.token, httponly=True, samesite="strict",
                        secure=secure(request))
    response.delete_cookie(PRE_CSRF_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(v: Signed, session: Db) -> Response:
    """End the session: the cookie's token stops working at once."""
    with committing(session):
        close_session(session, v.web, v.user)
    response = see_other("/sign-in")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/password")
def password_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    """The password form (the only page a user with a temporary password may open)."""
    return render(request, "password.html", v.words, visit=v)


@router.post("/password")
def password_change(
    request: Request, v: Signed, session: Db, current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "", repeat_password: Annotated[str, Form()] = "",
) -> Response:
    """Replace the user's password, proving the current one."""
    error = v.words("passwords_differ") if new_password != repeat_password else ""
    if not error:
        try:
            with committing(session):
                change_password(session, v.user, current_password, new_password)
        except UserError as exc:
            error = str(exc)
    if error:
        return render(request, "password.html", v.words, status=422, visit=v, error=error)
    return see_other("/")


def _local(path: str) -> str:
    # Only a path on this site: never an open redirect to another host.
    return path if path.startswith("/") and not path.startswith("//") else "/"


@router.post("/language")
def language(v: Signed, session: Db, language: Annotated[str, Form()] = "",
             next: Annotated[str, Form()] = "/") -> Response:
    """Switch the screens' language and remember it for the user."""
    try:
        with committing(session):
            set_language(session, v.user, language)
    except UserError as exc:
        raise PageRefused(422, str(exc)) from exc
    return see_other(_local(next))
