"""Operators' API: stations (live status, self-test), printers (queues, jobs), reprints and their approval.

The screens (`issuance/web/pages/operators.py`) use the same functions; all of it is site-scoped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from issuance.config import Settings
from issuance.models import ReprintState, User, utcnow
from issuance.print_room import (
    PrinterView,
    ReprintRequestClosed,
    approve_request,
    printer_views,
    reprint_requests,
)
from issuance.reprints import FourEyesReprint, ReprintError, card_by_number, request_by_user
from issuance.roles import Permission
from issuance.runtime import Runtime
from issuance.station_status import MISSED_BEATS, request_self_test, station_views
from issuance.transitions import NotFound
from issuance.web.deps import committing, db_session, require, runtime
from issuance.web.inputs import Code, Id, Text
from printing.service import MAX_ATTEMPTS
from workers.pipeline import QueuePipeline
from workers.print_jobs import enqueue_printing
from workers.queues import JobQueue, open_queue, print_queue

router = APIRouter(prefix="/api", tags=["operators"])
Operator = Annotated[User, Depends(require(Permission.OPERATE_STATION))]
Printing = Annotated[User, Depends(require(Permission.PRINT))]
Approver = Annotated[User, Depends(require(Permission.MANAGE_CARD_LIFECYCLE))]
Db = Annotated[Session, Depends(db_session)]
CardNumber = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Z0-9]+$")]


def job_queue(request: Request) -> JobQueue:
    """The queue the app factory wired in (print jobs of approved reprints go there)."""
    wired = request.app.state.pipeline
    if isinstance(wired, QueuePipeline):
        return wired.jobs
    return open_queue(request.app.state.runtime.settings)


Jobs = Annotated[JobQueue, Depends(job_queue)]
Rt = Annotated[Runtime, Depends(runtime)]


def offline_after(settings: Settings) -> float:
    """Seconds without a heartbeat after which a station is shown offline."""
    return MISSED_BEATS * settings.station_heartbeat_seconds


def printers_with_queues(session: Session, user: User, jobs: JobQueue) -> list[tuple[PrinterView, int]]:
    """Each printer's view, and how many of its cards have a live job on its print queue."""
    return [(view, len(jobs.pending(print_queue(view.code))))
            for view in printer_views(session, user, MAX_ATTEMPTS)]


def ask_reprint(session: Session, user: User, number: str, reason: str) -> int:
    """File a reprint request for card `number` (committed); its id."""
    with committing(session):
        return request_by_user(session, card_by_number(session, number), reason, user).id


def approve_and_queue(session: Session, user: User, request_id: int, rt: Runtime, jobs: JobQueue) -> int:
    """Approve the request (committed), then queue the card's print at once; the card id."""
    with committing(session):
        card_id = approve_request(session, user, request_id).card_id
    # The reconciler would queue it too; enqueueing now only saves its interval.
    enqueue_printing(rt, jobs, [card_id], unless_since=utcnow())
    return card_id


# Refusals of the reprint rules (and a card or request outside the user's sites), with their status.
REPRINT_REFUSALS: tuple[tuple[type[Exception], int], ...] = (
    (NotFound, 404), (FourEyesReprint, 409), (ReprintRequestClosed, 409), (ReprintError, 422))
REFUSED: tuple[type[Exception], ...] = tuple(kind for kind, _ in REPRINT_REFUSALS)


def refusal_status(exc: Exception) -> int:
    return next(status for kind, status in REPRINT_REFUSALS if isinstance(exc, kind))


@router.get("/stations")
def list_stations(user: Operator, session: Db, rt: Rt) -> list[dict[str, Any]]:
    """The stations of the user's site: heartbeat, card present, current job and step, today's cards."""
    return [v.to_json() for v in station_views(session, user, offline_after(rt.settings))]


@router.post("/stations/{code}/self-test", status_code=202)
def ask_self_test(code: Annotated[Code, Path()], user: Operator, session: Db) -> dict[str, str]:
    """Ask the station to test itself at its next heartbeat; the answer appears in its status."""
    with committing(session):
        station = request_self_test(session, user, code)
        return {"station": station.code, "requested_at": station.self_test_requested_at.isoformat()
                if station.self_test_requested_at else ""}


@router.get("/printers")
def list_printers(user: Printing, session: Db, jobs: Jobs) -> list[dict[str, Any]]:
    """The printers of the user's site: cards waiting (by status), jobs on the queue, recent errors."""
    return [{"code": v.code, "site": v.site, "kind": v.kind, "counts": v.counts(), "on_queue": on_queue,
             "queue": [c.__dict__ for c in v.queue],
             "errors": [{**e.__dict__, "updated_at": e.updated_at.isoformat()} for e in v.errors]}
            for v, on_queue in printers_with_queues(session, user, jobs)]


class ReprintAsk(BaseModel):
    card: CardNumber
    reason: Text = Field(min_length=1, max_length=500)


@router.post("/reprints", status_code=201)
def new_reprint(body: ReprintAsk, user: Printing, session: Db) -> dict[str, Any]:
    """Ask for a card to be printed again, with the reason; a supervisor who did not ask approves it."""
    try:
        request_id = ask_reprint(session, user, body.card, body.reason)
    except REFUSED as exc:
        raise HTTPException(refusal_status(exc), str(exc)) from exc
    return {"request": request_id, "state": ReprintState.REQUESTED.value}


@router.get("/reprints")
def waiting_reprints(user: Approver, session: Db) -> list[dict[str, Any]]:
    """Reprint requests waiting for a supervisor, oldest first."""
    return [{**r.__dict__, "requested_at": r.requested_at.isoformat(), "own": r.requested_by == user.username}
            for r in reprint_requests(session, user, (ReprintState.REQUESTED,))]


@router.post("/reprints/{request_id}/approve")
def approve(request_id: Id, user: Approver, session: Db, rt: Rt, jobs: Jobs) -> dict[str, Any]:
    """Approve a reprint request (not one's own) and queue the card's print."""
    try:
        card_id = approve_and_queue(session, user, request_id, rt, jobs)
    except REFUSED as exc:
        raise HTTPException(refusal_status(exc), str(exc)) from exc
    return {"request": request_id, "card": card_id, "state": ReprintState.APPROVED.value}
