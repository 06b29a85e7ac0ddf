"""How refusals are shown to a browser: a sign-in redirect, a password change, a refusal page."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from issuance.web.pages.deps import (
    PageRefused,
    PasswordChangeRequired,
    SignInRequired,
    render,
    see_other,
    words_for,
)


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and "HX-Request" not in request.headers


def _sign_in_required(request: Request, _: Exception) -> Response:
    if _wants_page(request):
        return see_other("/sign-in")
    response = Response("sign in first", status_code=401, media_type="text/plain")
    response.headers["HX-Redirect"] = "/sign-in"
    return response


def _password_change(_: Request, __: Exception) -> Response:
    return see_other("/password")


def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRefused)
    words = words_for(request, request.app.state.runtime)
    return render(request, "refused.html", words, status=exc.status, reason=str(exc), key=exc.key)


def install(app: FastAPI) -> None:
    """The pages' exception handlers (the headers are the app's, in issuance/web/security.py)."""
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PasswordChangeRequired, _password_change)
    app.add_exception_handler(PageRefused, _refused)
