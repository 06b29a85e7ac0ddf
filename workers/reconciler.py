"""The reconciler: the database says which jobs should exist; re-enqueue the ones Redis lost (DESIGN §7).

It runs on a schedule of its own (inside every worker, between dequeues that time out after the
interval, in `issuance reconcile --every N`, and in the serving process on embedded defaults), so
recovery never waits for traffic or a person.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sqlalchemy import or_, select

from issuance.models import Application, utcnow
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from workers.jobs import enqueue_validation
from workers.liveness import lost_and_stale, requeue_grace
from workers.personalization import reconcile_personalization
from workers.queues import VALIDATE, JobQueue


@dataclass(frozen=True)
class Report:
    """What one reconcile pass found, and which of those it enqueued (a racing pass may win some)."""

    lost: list[int]
    stale: list[int]
    expired: list[int]
    requeued: list[int]
    # Cards whose station stopped mid-card (lease lapsed): spoiled, their applications queued again.
    spoiled: list[int] = field(default_factory=list)


def reconcile_validation(rt: Runtime, jobs: JobQueue) -> Report:
    """Re-enqueue submitted applications with no live job, and validating ones whose lease lapsed.

    A job still waiting in the queue is never doubled, however long the backlog; a job that
    looks taken after a whole lease belongs to a dead worker, and is enqueued again.
    """
    now = utcnow()
    with rt.db.session() as s:
        submitted = list(s.scalars(
            select(Application.id).where(Application.state == ApplicationState.SUBMITTED)))
        expired = list(s.scalars(select(Application.id).where(
            Application.state == ApplicationState.VALIDATING,
            or_(Application.lease_until.is_(None), Application.lease_until < now))))
    lost, stale = lost_and_stale(rt, jobs, VALIDATE, submitted, now)
    requeued = enqueue_validation(rt, jobs, [*lost, *stale, *expired],
                                  unless_since=now - requeue_grace(rt))
    return Report(sorted(lost), sorted(stale), sorted(expired), requeued)


def reconcile(rt: Runtime, jobs: JobQueue) -> Report:
    """One pass over every stage that has jobs: validation, then personalization."""
    found = reconcile_validation(rt, jobs)
    spoiled, requeued = reconcile_personalization(rt, jobs)
    return dataclasses.replace(found, requeued=[*found.requeued, *requeued], spoiled=spoiled)
