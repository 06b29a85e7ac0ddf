"""Batches: approved applications grouped for one production run at a site."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from issuance import audit
from issuance.equipment import site_printer, site_stations
from issuance.models import (
    Application,
    Batch,
    BatchStatus,
    Card,
    PrintAttempt,
    PrintAttemptState,
    Printer,
    ReprintRequest,
    ReprintState,
    Station,
    User,
    batch_stations,
    utcnow,
)
from issuance.sites import UnknownSite, in_scope, require_site
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, NotFound, move_many


class BatchError(ValueError):
    """A batch cannot be made as asked."""


def _approved_ids(session: Session, site: str, limit: int) -> list[int]:
    stmt = (select(Application.id)
            .where(Application.site == site, Application.state == ApplicationState.APPROVED)
            .order_by(Application.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        # Two supervisors batching at once take disjoint applications instead of waiting.
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def _equipment(session: Session, site: str, stations: list[str] | None,
               printer: str | None) -> tuple[list[Station], Printer]:
    chosen = site_stations(session, site)
    if stations:
        chosen = [s for s in chosen if s.code in stations]
        unknown = set(stations) - {s.code for s in chosen}
        if unknown:
            raise BatchError(f"stations: unknown or inactive at {site}: {', '.join(sorted(unknown))}")
    if not chosen:
        raise BatchError(f"stations: site {site} has no active encoding station")
    # A named printer must be an active one of the same site, like the stations.
    found = (session.scalars(select(Printer).where(Printer.code == printer, Printer.site == site,
                                                   Printer.active)).first()
             if printer else site_printer(session, site))
    if found is None:
        raise BatchError(f"printer: site {site} has no active printer"
                         + (f" named {printer}" if printer else ""))
    return chosen, found


def create_batch(session: Session, site: str, actor: Actor, *, max_size: int = 500,
                 stations: list[str] | None = None, printer: str | None = None) -> Batch | None:
    """Gather up to `max_size` approved applications of `site` into a new batch (None if none)."""
    if max_size < 1:
        raise BatchError("max: must be at least 1")
    try:
        require_site(session, site)
    except UnknownSite as exc:
        raise BatchError(str(exc)) from exc
    chosen, found = _equipment(session, site, stations, printer)
    ids = _approved_ids(session, site, max_size)
    if not ids:
        return None
    batch = Batch(number=f"{site}-new-{uuid.uuid4().hex}"[:40], site=site, printer=found,
                  stations=chosen, created_by=actor.name)
    session.add(batch)
    session.flush()
    batch.number = f"{site}-B{batch.id:06d}"  # from the id, so concurrent batches never clash
    moved = move_many(session, Application, ids, ApplicationState.BATCHED, actor,
                      expected=ApplicationState.APPROVED,
                      # enqueued_at marks the stage's own job from now on (personalization).
                      values={i: {"batch_id": batch.id, "enqueued_at": None} for i in ids},
                      details={i: {"batch": batch.number} for i in ids})
    audit.record(session, audit.Entry(
        actor=actor.name, site=site, action="batch.created", entity_type="batch",
        entity_id=batch.number, details={"applications": len(moved), "printer": found.code,
                                         "stations": [s.code for s in chosen]}))
    return batch


def batch_counts(session: Session, batch_id: int) -> dict[str, int]:
    """How many of the batch's applications are in each state."""
    rows = session.execute(select(Application.state, func.count())
                           .where(Application.batch_id == batch_id).group_by(Application.state))
    return dict(sorted(Counter({str(state): n for state, n in rows}).items()))


# --- production control: pause, resume, close, reassign (each in the caller's one transaction) ---

# Application states that still need the batch's stations or printer, or a person's check of the print.
UNFINISHED = (ApplicationState.BATCHED, ApplicationState.PERSONALIZING, ApplicationState.PERSONALIZED,
              ApplicationState.PRINTING, ApplicationState.PRINTED)
OPEN_ATTEMPTS = (PrintAttemptState.SUBMITTING, PrintAttemptState.WAITING)
OPEN_REPRINTS = (ReprintState.REQUESTED, ReprintState.APPROVED)


class BatchConflict(BatchError):
    """The batch's status or its cards in flight forbid the change now."""


@dataclass(frozen=True)
class Released:
    """Work a change hands back to the stages: applications for the stations, cards for the printer."""

    application_ids: list[int]
    card_ids: list[int]


def find_batch(session: Session, number: str, user: User | None = None, *, lock: bool = False) -> Batch:
    """The batch with this number; NotFound when missing or outside the user's site."""
    stmt = select(Batch).where(Batch.number == number)
    batch = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if batch is None or (user is not None and not in_scope(user, batch.site)):
        raise NotFound(f"batch {number} does not exist")
    return batch


def paused_applications() -> Select[Any]:
    """Ids of applications whose batch is paused: no station claims them, no printer prints them."""
    return (select(Application.id).join(Batch, Application.batch_id == Batch.id)
            .where(Batch.status == BatchStatus.PAUSED))


def held_by_batch(session: Session, application_id: int, station_id: int | None = None) -> str:
    """Why the application's batch gives no work now ('' when it does): paused, or station unassigned.

    The batch row is read FOR SHARE (PostgreSQL), so a pause committed first is always seen and a
    pause that comes later waits for this claim's transaction.
    """
    row = session.execute(
        select(Batch.id, Batch.number, Batch.status).join(Application, Application.batch_id == Batch.id)
        .where(Application.id == application_id).with_for_update(read=True, of=Batch)).first()
    if row is None:
        return ""
    if row.status == BatchStatus.PAUSED:
        return f"batch {row.number} is paused"
    if station_id is not None and session.execute(select(batch_stations.c.station_id).where(
            batch_stations.c.batch_id == row.id, batch_stations.c.station_id == station_id)).first() is None:
        return f"this station is no longer assigned to batch {row.number}"
    return ""


def _set_status(session: Session, batch: Batch, target: BatchStatus, allowed: tuple[BatchStatus, ...],
                actor: Actor, action: str, details: dict[str, object]) -> None:
    """Compare-and-set the batch's status, audited; BatchConflict when it is not in `allowed`."""
    previous = batch.status
    values: dict[str, object] = {"status": target}
    if target == BatchStatus.CLOSED:
        values["closed_at"] = utcnow()
    moved = session.execute(update(Batch).where(Batch.id == batch.id, Batch.status.in_(allowed))
                            .values(**values).returning(Batch.id)).first()
    if moved is None:
        raise BatchConflict(f"status: batch {batch.number} is {batch.status}; only "
                            f"{' or '.join(allowed)} batches can be {action}")
    session.refresh(batch)
    audit.record(session, audit.Entry(
        actor=actor.name, site=batch.site, action=f"batch.{action}", entity_type="batch",
        entity_id=batch.number, from_state=str(previous), to_state=str(target),
        details=details))


def pause_batch(session: Session, number: str, actor: Actor, user: User | None = None,
                reason: str = "") -> Batch:
    """Stop giving the batch's work to stations and printer; cards already started are finished."""
    batch = find_batch(session, number, user, lock=True)
    _set_status(session, batch, BatchStatus.PAUSED, (BatchStatus.OPEN,), actor, "paused",
                {"reason": reason.strip()})
    return batch


def _release(session: Session, batch: Batch) -> Released:
    """Forget the batch's job marks, so its waiting applications and printable cards are queued again."""
    apps = list(session.scalars(update(Application).where(
        Application.batch_id == batch.id, Application.state == ApplicationState.BATCHED)
        .values(enqueued_at=None).returning(Application.id)))
    mine = select(Application.id).where(Application.batch_id == batch.id)
    reprint = select(ReprintRequest.card_id).where(ReprintRequest.state == ReprintState.APPROVED)
    cards = list(session.scalars(update(Card).where(
        Card.application_id.in_(mine), or_(Card.state == CardState.LOCKED, Card.id.in_(reprint)))
        .values(print_enqueued_at=None).returning(Card.id)))
    return Released(sorted(apps), sorted(cards))


def resume_batch(session: Session, number: str, actor: Actor, user: User | None = None) -> Released:
    """Give the paused batch's work out again; the caller queues what is returned once committed."""
    batch = find_batch(session, number, user, lock=True)
    _set_status(session, batch, BatchStatus.OPEN, (BatchStatus.PAUSED,), actor, "resumed", {})
    return _release(session, batch)


def unfinished(session: Session, batch: Batch) -> list[str]:
    """What keeps the batch from closing: its applications and cards still in production."""
    mine = select(Application.id).where(Application.batch_id == batch.id)
    apps = [f"{n} {s}" for n, s in session.execute(
        select(Application.number, Application.state).where(
            Application.batch_id == batch.id, Application.state.in_(UNFINISHED)).order_by(Application.id))]
    cards = select(Card.id).where(Card.application_id.in_(mine))
    prints = [f"card {n} print attempt {s}" for n, s in session.execute(
        select(Card.document_number, PrintAttempt.state).join(Card, PrintAttempt.card_id == Card.id)
        .where(PrintAttempt.card_id.in_(cards), PrintAttempt.state.in_(OPEN_ATTEMPTS)))]
    reprints = [f"card {n} reprint {s}" for n, s in session.execute(
        select(Card.document_number, ReprintRequest.state).join(Card, ReprintRequest.card_id == Card.id)
        .where(ReprintRequest.card_id.in_(cards), ReprintRequest.state.in_(OPEN_REPRINTS)))]
    return [*apps, *prints, *reprints]


def close_batch(session: Session, number: str, actor: Actor, user: User | None = None) -> Batch:
    """End the batch's production: refused while any of its applications or cards is still in flight.

    In flight: an application batched, personalizing, personalized, printing or printed (not yet
    quality-checked), a print attempt submitting or waiting, or a reprint requested or approved.
    """
    batch = find_batch(session, number, user, lock=True)
    left = unfinished(session, batch)
    if left:
        shown = "; ".join(left[:10]) + (f"; and {len(left) - 10} more" if len(left) > 10 else "")
        raise BatchConflict(f"batch {number} still has work in flight: {shown}")
    _set_status(session, batch, BatchStatus.CLOSED, (BatchStatus.OPEN, BatchStatus.PAUSED), actor, "closed",
                {})
    return batch


def assign_equipment(session: Session, number: str, actor: Actor, user: User | None = None, *,
                     stations: list[str] | None = None, printer: str | None = None) -> Released:
    """Give an open or paused batch other stations or another printer; its waiting work is queued again.

    Cards already being encoded finish on their station; print attempts already submitted are
    followed on the printer they went to.
    """
    batch = find_batch(session, number, user, lock=True)
    if batch.status == BatchStatus.CLOSED:
        raise BatchConflict(f"status: batch {number} is closed; its equipment can no longer change")
    chosen, found = _equipment(session, batch.site, stations, printer)
    before = {"stations": sorted(s.code for s in batch.stations),
              "printer": batch.printer.code if batch.printer else ""}
    batch.stations, batch.printer = chosen, found
    session.flush()
    audit.record(session, audit.Entry(
        actor=actor.name, site=batch.site, action="batch.assigned", entity_type="batch",
        entity_id=batch.number, details={"before": before, "stations": [s.code for s in chosen],
                                         "printer": found.code}))
    return _release(session, batch) if batch.status == BatchStatus.OPEN else Released([], [])
