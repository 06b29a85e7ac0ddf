"""Security headers on every response of the pages, and how refusals are shown to a browser."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "media-src 'self' blob: mediastream:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# FastAPI's own documentation pages load their scripts from elsewhere; they keep their defaults.
_DOCS = ("/docs", "/redoc", "/openapi.json")


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    if not request.url.path.startswith(_DOCS):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https":  # browsers then refuse plain HTTP to this host for a year
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.media_type in (None, "text/html") or "text/html" in response.headers.get(
                "content-type", ""):
            response.headers["Cache-Control"] = "no-store"  # pages hold personal data
    return response


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
    """Headers middleware and the pages' exception handlers."""
    app.middleware("http")(security_headers)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PasswordChangeRequired, _password_change)
    app.add_exception_handler(PageRefused, _refused)
