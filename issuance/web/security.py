"""Response headers every page and API answer carries, and Swagger UI served from local files.

OWASP Secure Headers: nothing is cached (answers carry personal data), content types are not
sniffed, no referrer leaks an application number, and a strict Content-Security-Policy loads
scripts and styles from this server only (a registry office network has no internet).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import swagger_ui
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_STATIC = "/docs/static"
# Swagger UI 5 (it reads OpenAPI 3.1) as shipped inside the swagger-ui-py wheel: no CDN needed.
SWAGGER_UI_FILES = Path(swagger_ui.__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
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
    # Swagger UI's own files are the only thing worth caching; everything else may be personal.
    if not request.url.path.startswith(DOCS_STATIC):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def install(app: FastAPI) -> None:
    """Add the headers middleware and the local /docs page (create the app with docs_url=None)."""
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
