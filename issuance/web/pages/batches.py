"""The supervisor's batches: create, progress by state, pause, resume, close, reassign, documents."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.batches import (
    UNFINISHED,
    BatchConflict,
    BatchError,
    assign_equipment,
    batch_counts,
    close_batch,
    create_batch,
    find_batch,
    pause_batch,
    resume_batch,
)
from issuance.equipment import site_stations
from issuance.models import Batch, Printer
from issuance.roles import Permission
from issuance.sites import scoped, sees_all_sites, site_codes
from issuance.states import ApplicationState
from issuance.transitions import Actor, NotFound
from issuance.web.deps import committing, pipeline
from issuance.web.pages.deps import Db, PageRefused, Rt, Visit, page_guard, render, see_other
from issuance.web.supervisor import announce_released
from printing.design import load_design
from printing.proofs import manifest_csv, manifest_pdf, proof_sheet_pdf
from workers.print_batches import batch_papers

router = APIRouter(prefix="/supervisor/batches", include_in_schema=False)
Planner = Annotated[Visit, Depends(page_guard(Permission.MANAGE_BATCHES))]
FormText = Annotated[str, Form()]
LIST_LIMIT = 100
MAX_SIZE = 10_000
_NUMBER = re.compile(r"[A-Za-z0-9._-]{1,40}")
# The order a batch's progress is shown in: production first, then what came after it.
PROGRESS = (*UNFINISHED, ApplicationState.QUALITY_CHECKED, ApplicationState.DISPATCHED,
            ApplicationState.DELIVERED)


def _equipment(session: Session, site: str) -> tuple[list[str], list[str]]:
    """The codes of the site's active stations and printers (what a batch may be given)."""
    printers = session.scalars(select(Printer.code).where(Printer.site == site, Printer.active)
                               .order_by(Printer.code))
    return [s.code for s in site_stations(session, site)], list(printers)


def _list(request: Request, v: Visit, session: Session, status: int = 200, error: str = "",
          notice: str = "") -> Response:
    batches = session.scalars(scoped(select(Batch), v.user, Batch.site)
                              .order_by(Batch.id.desc()).limit(LIST_LIMIT)).all()
    stations, printers = _equipment(session, v.user.site)
    return render(request, "batches/list.html", v.words, status=status, visit=v, batches=batches,
                  counts={b.id: batch_counts(session, b.id) for b in batches}, stations=stations,
                  printers=printers, sites=site_codes(session) if sees_all_sites(v.user) else [],
                  error=error, notice=notice, max_size=MAX_SIZE)


@router.get("")
def batches(request: Request, v: Planner, session: Db) -> Response:
    """The site's batches, newest first, with their status and progress; the form for a new one."""
    return _list(request, v, session)


def _size(raw: str) -> int:
    if not (raw.strip().isascii() and raw.strip().isdigit() and 1 <= int(raw) <= MAX_SIZE):
        raise BatchError(f"max: a whole number from 1 to {MAX_SIZE}")
    return int(raw)


def _codes(raw: list[str], name: str) -> list[str]:
    if len(raw) > 100 or not all(_NUMBER.fullmatch(c) for c in raw):
        raise BatchError(f"{name}: codes of the site's equipment (letters, digits, '.', '_', '-')")
    return raw


@router.post("")
async def create(request: Request, v: Planner, session: Db, max_size: FormText = "500",
                 printer: FormText = "", site: FormText = "") -> Response:
    """Gather the site's approved applications into a batch on the chosen stations and printer."""
    stations = [str(s) for s in (await request.form()).getlist("stations")]
    where = site.strip() if site.strip() and sees_all_sites(v.user) else v.user.site
    try:
        chosen, size = _codes(stations, "stations"), _size(max_size)
        printer_code = _codes([printer.strip()], "printer")[0] if printer.strip() else None
        with committing(session):
            batch = create_batch(session, where, Actor(v.user.username, v.user.site), max_size=size,
                                 stations=chosen or None, printer=printer_code)
            if batch is None:
                raise BatchConflict(f"no approved applications at {where}")
            number, ids = batch.number, [a.id for a in batch.applications]
    except BatchError as exc:
        return _list(request, v, session, 409 if isinstance(exc, BatchConflict) else 422, str(exc))
    pipeline(request).batched(ids)
    return see_other(f"/supervisor/batches/{number}")


def _batch(session: Session, v: Visit, number: str) -> Batch:
    """The batch at the user's site, or a 404 page (a malformed number names no batch either)."""
    try:
        if not _NUMBER.fullmatch(number):
            raise NotFound(f"batch {number[:40]} does not exist")
        return find_batch(session, number, v.user)
    except NotFound as exc:
        raise PageRefused(404, str(exc), "not_found") from exc


def _progress(session: Session, batch: Batch) -> list[tuple[str, int]]:
    counts = batch_counts(session, batch.id)
    return [(str(state), counts.get(str(state), 0)) for state in PROGRESS]


def _detail(request: Request, v: Visit, session: Session, batch: Batch, status: int = 200,
            error: str = "") -> Response:
    stations, printers = _equipment(session, batch.site)
    progress = _progress(session, batch)
    return render(request, "batches/detail.html", v.words, status=status, visit=v, batch=batch,
                  progress=progress, total=sum(n for _, n in progress), stations=stations,
                  printers=printers, chosen={s.code for s in batch.stations}, error=error)


@router.get("/{number}")
def detail(request: Request, number: str, v: Planner, session: Db) -> Response:
    """One batch: status, equipment, progress per state, the controls and its documents."""
    return _detail(request, v, session, _batch(session, v, number))


@router.get("/{number}/progress")
def progress(request: Request, number: str, v: Planner, session: Db) -> Response:
    """The progress table alone, for the detail page's htmx refresh."""
    batch = _batch(session, v, number)
    rows = _progress(session, batch)
    return render(request, "batches/_progress.html", v.words, visit=v, batch=batch, progress=rows,
                  total=sum(n for _, n in rows))


def _control(request: Request, v: Visit, session: Session, number: str, change: str,
             reason: str = "", stations: list[str] | None = None, printer: str = "") -> Response:
    """Apply one change to the batch in one transaction; the page again with the refusal, if any."""
    batch = _batch(session, v, number)
    actor = Actor(v.user.username, v.user.site)
    try:
        with committing(session):
            if change == "pause":
                pause_batch(session, number, actor, v.user, reason)
                released = None
            elif change == "resume":
                released = resume_batch(session, number, actor, v.user)
            elif change == "close":
                close_batch(session, number, actor, v.user)
                released = None
            else:
                released = assign_equipment(session, number, actor, v.user,
                                            stations=_codes(stations or [], "stations") or None,
                                            printer=_codes([printer], "printer")[0] if printer else None)
    except BatchError as exc:
        session.refresh(batch)
        return _detail(request, v, session, batch, 409 if isinstance(exc, BatchConflict) else 422, str(exc))
    if released is not None:
        announce_released(pipeline(request), released)
    return see_other(f"/supervisor/batches/{batch.number}")


@router.post("/{number}/pause")
def pause(request: Request, number: str, v: Planner, session: Db, reason: FormText = "") -> Response:
    """Stop the batch's work going to its stations and printer."""
    if len(reason) > 500:
        return _detail(request, v, session, _batch(session, v, number), 422, "reason: at most 500 characters")
    return _control(request, v, session, number, "pause", reason=reason)


@router.post("/{number}/resume")
def resume(request: Request, number: str, v: Planner, session: Db) -> Response:
    """Give the paused batch's work out again."""
    return _control(request, v, session, number, "resume")


@router.post("/{number}/close")
def close(request: Request, number: str, v: Planner, session: Db) -> Response:
    """End the batch (refused while anything of it is in flight)."""
    return _control(request, v, session, number, "close")


@router.post("/{number}/assign")
async def assign(request: Request, number: str, v: Planner, session: Db, printer: FormText = "") -> Response:
    """Give the batch other stations and printer of its site."""
    stations = [str(s) for s in (await request.form()).getlist("stations")]
    return _control(request, v, session, number, "assign", stations=stations, printer=printer.strip())


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/{number}/proof.pdf")
def proof(number: str, v: Planner, session: Db, rt: Rt) -> Response:
    """Both sides of every printed card of the batch, 15 to an A4 page."""
    batch = _batch(session, v, number)
    info, proofs, _ = batch_papers(rt, load_design(), batch.number, v.user.username)
    return _download(proof_sheet_pdf(info, proofs), "application/pdf", f"proof-{batch.number}.pdf")


@router.get("/{number}/manifest.pdf")
def manifest(number: str, v: Planner, session: Db, rt: Rt) -> Response:
    """The batch manifest: every card with its application, chip serial, names and state."""
    batch = _batch(session, v, number)
    info, _, rows = batch_papers(rt, None, batch.number, v.user.username)
    return _download(manifest_pdf(info, rows), "application/pdf", f"manifest-{batch.number}.pdf")


@router.get("/{number}/manifest.csv")
def manifest_table(number: str, v: Planner, session: Db, rt: Rt) -> Response:
    """The batch manifest as CSV (UTF-8)."""
    batch = _batch(session, v, number)
    _, _, rows = batch_papers(rt, None, batch.number, v.user.username)
    return _download(manifest_csv(rows).encode(), "text/csv; charset=utf-8", f"manifest-{batch.number}.csv")

