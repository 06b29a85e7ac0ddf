"""Response headers every page and API answer carries, and Swagger UI served from local files.

OWASP Secure Headers: nothing is cached (answers carry personal data), content types are not
sniffed, no referrer leaks an application number, and a strict Content-Security-Policy loads
scripts and styles from this server only (a registry office network has no internet).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import swagger_ui
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from issuance.web import errors

DOCS_STATIC = "/docs/static"
# Swagger UI 5 (it reads OpenAPI 3.1) as shipped inside the swagger-ui-py wheel: no CDN needed.
SWAGGER_UI_FILES = Path(swagger_ui.__file__).parent / "static"
# The counter's camera page needs blob: images and a media stream; nothing else is loosened.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "media-src 'self' blob: mediastream:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API</title>
<link rel="stylesheet" href="{static}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>
"""


async def _secure_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.url.scheme == "https":  # browsers then refuse plain HTTP to this host for a year
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Swagger UI's own files are the only thing worth caching; everything else may be personal.
    if not request.url.path.startswith(DOCS_STATIC):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


class DeclaredTypes:
    """Which request body types each operation accepts, read from the app's own OpenAPI schema."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._table: list[tuple[re.Pattern[str], str, frozenset[str]]] | None = None

    def _build(self) -> list[tuple[re.Pattern[str], str, frozenset[str]]]:
        table = []
        for path, operations in self._app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(path)) + "$")
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {})
                if content:
                    table.append((pattern, method.upper(), frozenset(content)))
        return table

    def allowed(self, method: str, path: str) -> frozenset[str] | None:
        """The media types the operation declares for its body, or None when it takes none."""
        if self._table is None:
            self._table = self._build()
        return next((types for pattern, m, types in self._table if m == method and pattern.match(path)), None)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length", "")
    return (length.isdigit() and int(length) > 0) or "transfer-encoding" in request.headers


def content_type_guard(app: FastAPI) -> Callable[..., Awaitable[Response]]:
    """415 for a body whose declared Content-Type the operation does not accept (before parsing)."""
    declared_types = DeclaredTypes(app)

    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method in ("POST", "PUT", "PATCH") and _has_body(request):
            allowed = declared_types.allowed(request.method, request.url.path)
            # No declared type means bytes of unknown type (RFC 9110 §8.3): octet-stream.
            declared = request.headers.get("content-type", "").split(";")[0].strip().lower() \
                or "application/octet-stream"
            if allowed is not None and declared not in allowed:
                message = (f"Content-Type {declared or '(none)'} is not accepted here; "
                           f"send one of {', '.join(sorted(allowed))}")
                return JSONResponse(errors.body(415, message), status_code=415)
        return await call_next(request)

    return guard


def install(app: FastAPI) -> None:
    """Add the headers and content-type middlewares and the local /docs page (docs_url=None)."""
    app.middleware("http")(content_type_guard(app))
    app.middleware("http")(_secure_headers)
    app.mount(DOCS_STATIC, StaticFiles(directory=SWAGGER_UI_FILES), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE.format(title=app.title, static=DOCS_STATIC))

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        # A file rather than an inline script, so the CSP needs no 'unsafe-inline'.
        script = (f"window.ui = SwaggerUIBundle({{url: {json.dumps(app.openapi_url)}, "
                  "dom_id: '#swagger-ui', deepLinking: true});\n")
        return Response(script, media_type="text/javascript")
