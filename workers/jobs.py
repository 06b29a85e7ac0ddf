"""rq job functions: each takes ids only, loads state from the database, and is idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from issuance.models import Application, utcnow
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from workers import context, validation
from workers.queues import VALIDATE, JobQueue


def validate_applications(ids: list[int]) -> dict[str, object]:
    """Validate a chunk of applications against the civil registry."""
    rt = context.runtime()
    result = validation.validate(rt, ids)
    # Ids left waiting for the registry keep their lease; the reconciler retries them after it.
    context.jobs().done(VALIDATE, ids)
    return {"outcomes": dict(result.outcomes), "waiting": result.waiting, "skipped": result.skipped}


def noop(ids: list[int]) -> int:
    """A job that does nothing: the benchmark's measure of rq's own overhead."""
    return len(ids)


VALIDATE_JOB = f"{__name__}.validate_applications"
NOOP_JOB = f"{__name__}.noop"
WAITING_FOR_VALIDATION = (ApplicationState.SUBMITTED, ApplicationState.VALIDATING)


def enqueue_validation(
    rt: Runtime, jobs: JobQueue, ids: Sequence[int], *, unless_since: dt.datetime | None = None
) -> list[int]:
    """Queue validation for the ids not enqueued since `unless_since` (None: never enqueued).

    The mark is a compare-and-set in the database, so two reconcilers racing over one id
    enqueue it once; a crash between the mark and the enqueue is healed after the grace.
    """
    with rt.db.transaction() as s:
        claimed = mark_enqueued(s, ids, WAITING_FOR_VALIDATION, unless_since)
    jobs.enqueue_ids(VALIDATE, VALIDATE_JOB, claimed, rt.settings.validate_batch_size)
    return claimed


def mark_enqueued(session: Session, ids: Sequence[int], states: Sequence[ApplicationState],
                  unless_since: dt.datetime | None) -> list[int]:
    """Mark the ids in `states` not enqueued since `unless_since` (None: since they entered the stage).

    The compare-and-set that makes an id's job enqueued once however many processes race for it.
    """
    if not ids:
        return []
    never = Application.enqueued_at.is_(None)
    fresh = never if unless_since is None else or_(never, Application.enqueued_at < unless_since)
    return sorted(session.scalars(
        update(Application)
        .where(Application.id.in_(sorted(set(ids))), Application.state.in_(list(states)), fresh)
        .values(enqueued_at=utcnow())
        .returning(Application.id)
    ))
