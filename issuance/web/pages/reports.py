"""The supervisor's reports: a site's daily production and a batch's applications, as PDF or CSV.

Reports use MANAGE_BATCHES, the supervisor's production permission: they describe production runs
(DESIGN §8 gives reports to supervisors); a supervisor gets their own site's only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.models import Batch
from issuance.reports import ReportNotFound, ReportRefused, batch_report, daily_report, zone
from issuance.roles import Permission
from issuance.sites import scoped, sees_all_sites, site_codes
from issuance.web.pages.deps import Db, PageRefused, Rt, Visit, page_guard, render
from printing.reports import FORMATS, Document, batch_document, daily_document

router = APIRouter(prefix="/reports", include_in_schema=False)
Planner = Annotated[Visit, Depends(page_guard(Permission.MANAGE_BATCHES))]
RECENT_BATCHES = 20
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class FormProblem(ValueError):
    """A form value the reports cannot use: field and rule."""


def _today(rt: Rt) -> dt.date:
    return dt.datetime.now(zone(rt.settings.timezone)).date()


def _page(request: Request, v: Visit, session: Session, rt: Rt, status: int = 200, error: str = "",
          **form: str) -> Response:
    sites = site_codes(session) if sees_all_sites(v.user) else [v.user.site]
    batches = session.scalars(scoped(select(Batch), v.user, Batch.site)
                              .order_by(Batch.id.desc()).limit(RECENT_BATCHES)).all()
    return render(request, "reports/index.html", v.words, status=status, visit=v, sites=sites,
                  batches=batches, today=_today(rt).isoformat(), timezone=rt.settings.timezone,
                  formats=FORMATS, error=error, form=form)


@router.get("")
def reports_page(request: Request, v: Planner, session: Db, rt: Rt) -> Response:
    """Pick a site and day, or a batch, and download its report."""
    return _page(request, v, session, rt)


def _code(field: str, value: str) -> str:
    if not _CODE.match(value):
        raise FormProblem(f"{field}: 1-40 letters, digits, '.', '_' or '-'")
    return value


def _format(value: str) -> str:
    if value not in FORMATS:
        raise FormProblem(f"format: must be one of {', '.join(FORMATS)}")
    return value


def _day(value: str) -> dt.date:
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise FormProblem("day: a date as YYYY-MM-DD") from exc


def _download(document: Document) -> Response:
    return Response(document.content, media_type=document.media_type, headers={
        "Content-Disposition": f'attachment; filename="{document.filename}"', "Cache-Control": "no-store"})


@router.get("/daily")
def daily(request: Request, v: Planner, session: Db, rt: Rt, site: str = "", day: str = "",
          format: str = "pdf") -> Response:
    """The site's production on one local day, as PDF or CSV."""
    form = {"site": site, "day": day, "format": format}
    try:
        fmt = _format(format)
        report = daily_report(session, v.user, _code("site", site.strip()), _day(day.strip()),
                              zone(rt.settings.timezone))
        return _download(daily_document(report, fmt))
    except FormProblem as exc:
        return _page(request, v, session, rt, 422, str(exc), **form)
    except ReportNotFound as exc:
        return _page(request, v, session, rt, 404, str(exc), **form)
    except ReportRefused as exc:
        raise PageRefused(403, str(exc), "forbidden") from exc


@router.get("/batch")
def batch(request: Request, v: Planner, session: Db, rt: Rt, number: str = "",
          format: str = "pdf") -> Response:
    """One batch's applications with their cards and attempts, as PDF or CSV."""
    form = {"number": number, "batch_format": format}
    try:
        fmt = _format(format)
        report = batch_report(session, v.user, _code("number", number.strip()))
        return _download(batch_document(report, fmt))
    except FormProblem as exc:
        return _page(request, v, session, rt, 422, str(exc), **form)
    except ReportNotFound as exc:
        return _page(request, v, session, rt, 404, str(exc), **form)
