"""The operators' screens: stations as they work (htmx polling), printers and their queues, reprints.

Operators see the stations and printers of their own site, ask for self-tests and reprints; a
supervisor approves reprints asked for by someone else (four eyes).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from issuance.models import ReprintState
from issuance.print_room import reprint_requests
from issuance.roles import Permission
from issuance.station_status import request_self_test, station_views
from issuance.transitions import NotFound
from issuance.web.deps import committing
from issuance.web.inputs import Code, Id
from issuance.web.operators import (
    REFUSED,
    Jobs,
    approve_and_queue,
    ask_reprint,
    offline_after,
    printers_with_queues,
    refusal_status,
)
from issuance.web.pages.deps import Db, Rt, Visit, page_guard, render, see_other
from issuance.web.pages.i18n import TEXT, Words

router = APIRouter(include_in_schema=False)
Operator = Annotated[Visit, Depends(page_guard(Permission.OPERATE_STATION))]
Printing = Annotated[Visit, Depends(page_guard(Permission.PRINT))]
Approver = Annotated[Visit, Depends(page_guard(Permission.MANAGE_CARD_LIFECYCLE))]
Field = Annotated[str, Form()]
OPEN = (ReprintState.REQUESTED, ReprintState.APPROVED)
# How often the screens ask for fresh figures (htmx polling).
POLL = "every 2s"


def when(moment: dt.datetime | None) -> str:
    """A timestamp in the server's local time, to the second ('' for none)."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def printable(text: str) -> str:
    """What a refused form gives back to its field: the text without control characters."""
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def labeller(words: Words) -> Any:
    """`word(prefix, value)`: the screens' word for a value (a step, a status), else the value itself."""
    def word(prefix: str, value: object) -> str:
        key = f"{prefix}{value}"
        return words(key) if key in TEXT else str(value)
    return word


def _render(request: Request, v: Visit, name: str, status: int = 200, **context: Any) -> Response:
    return render(request, name, v.words, status=status, visit=v, when=when, word=labeller(v.words),
                  poll=POLL, **context)


def _stations(request: Request, v: Visit, session: Session, rt: Rt, name: str, status: int = 200,
              **context: Any) -> Response:
    views = station_views(session, v.user, offline_after(rt.settings))
    return _render(request, v, name, status, stations=views, **context)


@router.get("/operators/stations")
def stations(request: Request, v: Operator, session: Db, rt: Rt) -> Response:
    """Every station of the operator's site, refreshed every two seconds."""
    return _stations(request, v, session, rt, "operators/stations.html",
                     asked="asked" in request.query_params)


@router.get("/operators/stations/live")
def stations_live(request: Request, v: Operator, session: Db, rt: Rt) -> Response:
    """The stations table alone: what the page's htmx polling swaps in."""
    return _stations(request, v, session, rt, "operators/_stations.html")


@router.post("/operators/stations/{code}/self-test")
def self_test(request: Request, code: Annotated[Code, Path()], v: Operator, session: Db, rt: Rt) -> Response:
    """Ask the station to test itself at its next heartbeat (audited)."""
    try:
        with committing(session):
            request_self_test(session, v.user, code)
    except NotFound as exc:
        return _stations(request, v, session, rt, "operators/stations.html", 404, error=str(exc))
    return see_other("/operators/stations?asked=1")


def _printers(request: Request, v: Visit, session: Session, jobs: Jobs, name: str, status: int = 200,
              **context: Any) -> Response:
    return _render(request, v, name, status, printers=printers_with_queues(session, v.user, jobs),
                   requests=reprint_requests(session, v.user, OPEN), **context)


@router.get("/operators/printers")
def printers(request: Request, v: Printing, session: Db, jobs: Jobs) -> Response:
    """Every printer of the operator's site: its queue, recent jobs and errors; the reprint form."""
    return _printers(request, v, session, jobs, "operators/printers.html",
                     asked="asked" in request.query_params)


@router.get("/operators/printers/live")
def printers_live(request: Request, v: Printing, session: Db, jobs: Jobs) -> Response:
    """The printers' figures alone: what the page's htmx polling swaps in."""
    return _printers(request, v, session, jobs, "operators/_printers.html")


@router.post("/operators/printers/reprints")
def reprint(request: Request, v: Printing, session: Db, jobs: Jobs, card: Field = "",
            reason: Field = "") -> Response:
    """Ask for a card to be printed again, with the reason; a supervisor approves it."""
    try:
        ask_reprint(session, v.user, card.strip().upper(), reason)
    except REFUSED as exc:
        status = refusal_status(exc)
        return _printers(request, v, session, jobs, "operators/printers.html", status, error=str(exc),
                         card=printable(card)[:20], reason=printable(reason)[:500])
    return see_other("/operators/printers?asked=1")


def _approvals(request: Request, v: Visit, session: Session, status: int = 200, **context: Any) -> Response:
    rows = reprint_requests(session, v.user, (ReprintState.REQUESTED,))
    return _render(request, v, "operators/reprints.html", status, rows=rows, **context)


@router.get("/supervisor/reprints")
def approvals(request: Request, v: Approver, session: Db) -> Response:
    """Reprint requests waiting for a supervisor, oldest first."""
    return _approvals(request, v, session, approved="approved" in request.query_params)


@router.post("/supervisor/reprints/{request_id}/approve")
def approve(request: Request, request_id: Id, v: Approver, session: Db, rt: Rt, jobs: Jobs) -> Response:
    """Approve a request someone else made; the card's print is queued."""
    try:
        approve_and_queue(session, v.user, request_id, rt, jobs)
    except REFUSED as exc:
        status = refusal_status(exc)
        return _approvals(request, v, session, status, error=str(exc))
    return see_other("/supervisor/reprints?approved=1")
