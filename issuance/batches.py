"""Batches: approved applications grouped for one production run at a site."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.equipment import site_printer, site_stations
from issuance.models import Application, Batch, Printer, Station
from issuance.sites import UnknownSite, require_site
from issuance.states import ApplicationState
from issuance.transitions import Actor, move_many


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
    found = (session.scalars(select(Printer).where(Printer.code == printer)).first()
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
