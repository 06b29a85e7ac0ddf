"""The counter's web pages: server-rendered screens over the same services as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from issuance.web.pages import (
    account,
    admin,
    applications,
    audit,
    batches,
    capture,
    cards,
    counter,
    dashboard,
    reports,
    security,
    supervision,
)
from issuance.web.pages import operators as operator_pages
from printing.fonts import FONT_FILES, FontMissing, font_path

STATIC = Path(__file__).resolve().parents[1] / "static"
fonts = APIRouter(include_in_schema=False)
FONT_PATHS = frozenset({"/fonts/{role}.ttf"})


@fonts.get("/fonts/{role}.ttf")
def font(role: str) -> FileResponse:
    """The screens' fonts, served from the Debian font packages (Arabic UI font: Noto)."""
    if role not in FONT_FILES or role == "ocr-b":
        raise HTTPException(404, "no such font")
    try:
        path = font_path(role)
    except FontMissing as exc:
        raise HTTPException(404, str(exc)) from exc
    return FileResponse(path, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})


def routers() -> list[APIRouter]:
    """Every page router (the app factory mounts them after the API's)."""
    return [account.router, counter.router, capture.router, applications.router, admin.router,
            supervision.router, dashboard.router, cards.router, batches.router, reports.router,
            audit.router, operator_pages.router, fonts]


def install(app: FastAPI) -> None:
    """Static files, security headers and the pages' error handling."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    security.install(app)
