"""Supervisor API: exceptions waiting for a decision, and production batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from issuance.batches import (
    BatchConflict,
    BatchError,
    Released,
    assign_equipment,
    batch_counts,
    close_batch,
    create_batch,
    find_batch,
    pause_batch,
    resume_batch,
)
from issuance.models import Batch, User
from issuance.pipeline import Pipeline
from issuance.review import (
    FourEyesViolation,
    OverrideRefused,
    QueueFilter,
    ReviewError,
    held_exceptions,
    override_photo,
    resolve_exception,
)
from issuance.roles import Permission
from issuance.sites import in_scope
from issuance.transitions import Actor
from issuance.web.deps import committing, db_session, pipeline, require
from issuance.web.inputs import Code, Id, Text

router = APIRouter(prefix="/api", tags=["supervisor"])
Reviewer = Annotated[User, Depends(require(Permission.RESOLVE_EXCEPTIONS))]
Planner = Annotated[User, Depends(require(Permission.MANAGE_BATCHES))]
Db = Annotated[Session, Depends(db_session)]


class Decision(BaseModel):
    approve: bool
    reason: Text = Field(min_length=1, max_length=500)


class BatchRequest(BaseModel):
    site: Code
    max: int = Field(default=500, ge=1, le=10_000)
    stations: list[Code] | None = Field(default=None, max_length=100)
    printer: Code | None = None


ReasonCode = Annotated[str, Query(max_length=40, pattern=r"^[A-Z_]*$")]
SiteCode = Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9-]*$")]
Days = Annotated[int, Query(ge=0, le=3650)]


@router.get("/exceptions")
def list_exceptions(user: Reviewer, session: Db, reason: ReasonCode = "", site: SiteCode = "",
                    older_than_days: Days = 0) -> list[dict[str, Any]]:
    """Applications held in `exception`, oldest first, with their reasons (filters: code, site, days held)."""
    held = held_exceptions(session, user, QueueFilter(reason, site, older_than_days))
    return [{"id": a.id, "number": a.number, "site": a.site, "clerk_id": a.clerk_id,
             "reasons": a.outcome_reasons or [], "own": a.clerk_id == user.id,
             "held_since": a.updated_at.isoformat()} for a in held]


@router.post("/exceptions/{application_id}/decision")
def decide_exception(application_id: Id, body: Decision, user: Reviewer, session: Db) -> dict[str, str]:
    """Approve or reject an exception; refused to the clerk who enrolled it (four eyes)."""
    try:
        with committing(session):
            moved = resolve_exception(session, application_id, user, approve=body.approve,
                                      reason=body.reason)
    except FourEyesViolation as exc:
        raise HTTPException(409, str(exc)) from exc
    except ReviewError as exc:
        raise HTTPException(422, str(exc)) from exc
    if not moved:
        raise HTTPException(409, f"application {application_id} is no longer in exception")
    return {"state": "approved" if body.approve else "rejected"}


class Override(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


@router.post("/applications/{application_id}/photo-override")
def photo_override(application_id: Id, body: Override, user: Reviewer, session: Db) -> dict[str, str]:
    """Accept a photo that failed quality (say, a medical condition), with the reason; four eyes."""
    try:
        with committing(session):
            photo = override_photo(session, application_id, user, body.reason)
            accepted = {"overridden_by": user.username, "image_id": str(photo.id), "digest": photo.digest}
    except (FourEyesViolation, OverrideRefused) as exc:
        raise HTTPException(409, str(exc)) from exc
    except ReviewError as exc:
        raise HTTPException(422, str(exc)) from exc
    return accepted


@router.post("/batches", status_code=201)
def new_batch(body: BatchRequest, user: Planner, session: Db,
              announce: Annotated[Pipeline, Depends(pipeline)]) -> dict[str, Any]:
    """Gather approved applications of a site into a batch; its applications go to their stations' queues."""
    if not in_scope(user, body.site):
        raise HTTPException(404, f"site {body.site} does not exist")
    try:
        with committing(session):
            batch = create_batch(session, body.site, Actor(user.username, user.site),
                                 max_size=body.max, stations=body.stations, printer=body.printer)
            if batch is None:
                raise HTTPException(409, f"no approved applications at {body.site}")
            made = {"number": batch.number, "counts": batch_counts(session, batch.id)}
            ids = [a.id for a in batch.applications]
    except BatchError as exc:
        raise HTTPException(422, str(exc)) from exc
    announce.batched(ids)
    return made


BatchNumber = Annotated[Code, Path()]


def batch_summary(session: Session, batch: Batch) -> dict[str, Any]:
    """A batch as the API shows it: status, equipment and its applications counted by state."""
    return {"number": batch.number, "site": batch.site, "status": str(batch.status),
            "printer": batch.printer.code if batch.printer else None,
            "stations": sorted(s.code for s in batch.stations), "counts": batch_counts(session, batch.id)}


@router.get("/batches/{number}")
def show_batch(number: BatchNumber, user: Planner, session: Db) -> dict[str, Any]:
    """A batch's status, equipment, and applications counted by state."""
    return batch_summary(session, find_batch(session, number, user))


def announce_released(announce: Pipeline, released: Released) -> None:
    """Queue what a resumed or re-equipped batch handed back (after its transaction committed)."""
    if released.application_ids:
        announce.batched(released.application_ids)
    if released.card_ids:
        announce.printable(released.card_ids)


def batch_refusal(exc: BatchError) -> HTTPException:
    """409 when the batch's status or work in flight refuses the change, 422 for bad input."""
    return HTTPException(409 if isinstance(exc, BatchConflict) else 422, str(exc))


class PauseRequest(BaseModel):
    reason: Text = Field(default="", max_length=500)


class AssignRequest(BaseModel):
    stations: list[Code] | None = Field(default=None, max_length=100)
    printer: Code | None = None


@router.post("/batches/{number}/pause")
def pause(number: BatchNumber, body: PauseRequest, user: Planner, session: Db) -> dict[str, Any]:
    """Stop giving the batch's work to its stations and printer (cards started are finished)."""
    try:
        with committing(session):
            batch = pause_batch(session, number, Actor(user.username, user.site), user, body.reason)
    except BatchError as exc:
        raise batch_refusal(exc) from exc
    return batch_summary(session, batch)


@router.post("/batches/{number}/resume")
def resume(number: BatchNumber, user: Planner, session: Db,
           announce: Annotated[Pipeline, Depends(pipeline)]) -> dict[str, Any]:
    """Give a paused batch's work out again: its waiting applications and cards are queued."""
    try:
        with committing(session):
            released = resume_batch(session, number, Actor(user.username, user.site), user)
    except BatchError as exc:
        raise batch_refusal(exc) from exc
    announce_released(announce, released)
    return batch_summary(session, find_batch(session, number, user))


@router.post("/batches/{number}/close")
def close(number: BatchNumber, user: Planner, session: Db) -> dict[str, Any]:
    """End the batch's production; refused (409, naming what) while any card is in flight."""
    try:
        with committing(session):
            batch = close_batch(session, number, Actor(user.username, user.site), user)
    except BatchError as exc:
        raise batch_refusal(exc) from exc
    return batch_summary(session, batch)


@router.post("/batches/{number}/assign")
def assign(number: BatchNumber, body: AssignRequest, user: Planner, session: Db,
           announce: Annotated[Pipeline, Depends(pipeline)]) -> dict[str, Any]:
    """Give the batch other stations and/or another printer of its site (default: all, the first)."""
    try:
        with committing(session):
            released = assign_equipment(session, number, Actor(user.username, user.site), user,
                                        stations=body.stations, printer=body.printer)
    except BatchError as exc:
        raise batch_refusal(exc) from exc
    announce_released(announce, released)
    return batch_summary(session, find_batch(session, number, user))
