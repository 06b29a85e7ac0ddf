"""Supervisor API: exceptions waiting for a decision, and production batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.batches import BatchError, batch_counts, create_batch
from issuance.models import Application, Batch, User
from issuance.pipeline import Pipeline
from issuance.review import (
    FourEyesViolation,
    OverrideRefused,
    ReviewError,
    override_photo,
    resolve_exception,
)
from issuance.roles import Permission
from issuance.sites import in_scope, scoped
from issuance.states import ApplicationState
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


@router.get("/exceptions")
def list_exceptions(user: Reviewer, session: Db) -> list[dict[str, Any]]:
    """Applications held in `exception`, oldest first, with their reasons."""
    held = session.scalars(scoped(select(Application), user, Application.site)
                           .where(Application.state == ApplicationState.EXCEPTION).order_by(Application.id))
    return [{"id": a.id, "number": a.number, "site": a.site, "clerk_id": a.clerk_id,
             "reasons": a.outcome_reasons or [], "own": a.clerk_id == user.id} for a in held]


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


@router.get("/batches/{number}")
def show_batch(number: Annotated[Code, Path()], user: Planner, session: Db) -> dict[str, Any]:
    """A batch's applications counted by state."""
    batch = session.scalars(select(Batch).where(Batch.number == number)).first()
    if batch is None or not in_scope(user, batch.site):
        raise HTTPException(404, f"batch {number} does not exist")
    return {"number": batch.number, "site": batch.site, "counts": batch_counts(session, batch.id)}
