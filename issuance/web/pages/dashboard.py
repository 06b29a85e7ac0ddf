"""The supervisor's dashboard: production figures of one site (admins: any or all), refreshed by htmx."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from issuance.config import ConfigError
from issuance.dashboard import Dashboard, Scope, ScopeRefused, Throughput, dashboard, scope_for
from issuance.roles import Permission
from issuance.sites import UnknownSite, sees_all_sites, site_codes
from issuance.web.pages.deps import Db, PageRefused, Rt, Visit, page_guard, render
from issuance.web.pages.i18n import Words

router = APIRouter(prefix="/supervisor", include_in_schema=False)
Viewer = Annotated[Visit, Depends(page_guard(Permission.VIEW_DASHBOARD))]
SiteFilter = Annotated[str, Query(max_length=64)]
# One colour per milestone, the same on every chart (and readable on white).
COLOURS = {"submitted": "#1f6fb2", "approved": "#2e8540", "personalized": "#8e44ad",
           "printed": "#c0392b", "delivered": "#b7950b"}
MIN_REFRESH_SECONDS = 5


def _scope(v: Visit, session: Db, site: str) -> Scope:
    try:
        return scope_for(session, v.user, site)
    except UnknownSite as exc:
        raise PageRefused(404, str(exc), "not_found") from exc
    except ScopeRefused as exc:
        raise PageRefused(403, str(exc), "forbidden") from exc


def _figures(v: Visit, session: Db, rt: Rt, site: str) -> Dashboard:
    scope = _scope(v, session, site)
    try:
        return dashboard(session, scope, rt.settings)
    except ConfigError as exc:
        raise PageRefused(500, str(exc)) from exc


def chart(words: Words, data: Throughput) -> dict[str, Any]:
    """What dashboard.js draws: labels and one dataset per milestone state, named in the reader's language."""
    # Short axis labels ("13:00", "11-28"); the table under the chart keeps the full UTC hour or day.
    short = [label[11:13] + ":00" if "T" in label else label[5:] for label in data.labels]
    return {"labels": short, "periods": data.labels,
            "datasets": [{"label": words.state(state), "data": counts, "colour": COLOURS.get(state, "#555")}
                         for state, counts in data.series.items()]}


def _context(v: Visit, rt: Rt, figures: Dashboard, site: str) -> dict[str, Any]:
    refresh = max(MIN_REFRESH_SECONDS, int(rt.settings.dashboard_refresh_seconds))
    return {"d": figures, "site": site, "refresh": refresh,
            "hourly": chart(v.words, figures.hourly), "daily": chart(v.words, figures.daily)}


@router.get("/dashboard")
def page(request: Request, v: Viewer, session: Db, rt: Rt, site: SiteFilter = "") -> Response:
    """The whole dashboard page, with a site filter for readers who see every site."""
    figures = _figures(v, session, rt, site)
    sites = site_codes(session) if sees_all_sites(v.user) else []
    return render(request, "dashboard/page.html", v.words, visit=v, sites=sites,
                  **_context(v, rt, figures, site))


@router.get("/dashboard/figures")
def figures_fragment(request: Request, v: Viewer, session: Db, rt: Rt, site: SiteFilter = "") -> Response:
    """The figures alone, for htmx to swap in every few seconds."""
    figures = _figures(v, session, rt, site)
    return render(request, "dashboard/figures.html", v.words, visit=v, **_context(v, rt, figures, site))


@router.get("/dashboard.json")
def figures_json(v: Viewer, session: Db, rt: Rt, site: SiteFilter = "") -> Response:
    """The same figures as JSON (times in UTC, ISO 8601)."""
    return JSONResponse(jsonable_encoder(asdict(_figures(v, session, rt, site))))
